/* dotenv: the syntax of a .env file (comments, export, quotes, escapes,
 * the last line wins), a bad line named by file and line and changing
 * nothing, a missing file being fine. (That the environment wins over the
 * file is tested with config_load() in test_config.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/config.h"
#include "shared/dotenv.h"
#include "test_tmpfile.h"

static void test_dotenv_syntax(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE] = "";
        char *path = test_tmpfile(
                "# a comment\n"
                "\n"
                "   \t\n"
                "DOTENV_A=plain value  \n"
                "export DOTENV_B='single # not a comment \\n'\n"
                "DOTENV_C=\"double \\\"q\\\" \\\\ line\\nbreak\" # comment\n"
                "  DOTENV_D = spaced\r\n"
                "DOTENV_E=value # trailing comment\n"
                "DOTENV_F=a#b\n"
                "DOTENV_G=\n"
                "DOTENV_H=first\n"
                "DOTENV_H=last\n"
                "DOTENV_I=x=y\n");

        assert_int_equal(dotenv_load(path, errstr, sizeof(errstr)), 0);
        assert_string_equal(getenv("DOTENV_A"), "plain value");
        assert_string_equal(getenv("DOTENV_B"), "single # not a comment \\n");
        assert_string_equal(getenv("DOTENV_C"), "double \"q\" \\ line\nbreak");
        assert_string_equal(getenv("DOTENV_D"), "spaced");
        assert_string_equal(getenv("DOTENV_E"), "value");
        assert_string_equal(getenv("DOTENV_F"), "a#b");
        assert_string_equal(getenv("DOTENV_G"), "");
        assert_string_equal(getenv("DOTENV_H"), "last");
        assert_string_equal(getenv("DOTENV_I"), "x=y");
        unlink(path);
        free(path);
}

static void test_dotenv_malformed_line_names_file_and_line(void **state)
{
        static const struct {
                const char *text, *why;
                int line;
        } bad[] = {
                {"DOTENV_A=1\n# ok\nnot a variable\n", "expected NAME=VALUE", 3},
                {"DOTENV_A=1\n1ABC=2\n", "expected NAME=VALUE", 2},
                {"DOTENV_A\n", "expected NAME=VALUE", 1},
                {"DOTENV_A=\"open\n", "unterminated double quote", 1},
                {"DOTENV_A='open\n", "unterminated single quote", 1},
                {"DOTENV_A='x'y\n", "unexpected text after the closing quote",
                 1},
                {"X-Y=1\n", "expected NAME=VALUE", 1},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char errstr[CONFIG_ERRSTR_SIZE] = "";
                char expected[CONFIG_ERRSTR_SIZE];
                char *path = test_tmpfile(bad[i].text);

                unsetenv("DOTENV_A");
                assert_int_equal(
                        dotenv_load(path, errstr, sizeof(errstr)), -1);
                snprintf(expected, sizeof(expected), "%s:%d: %s", path,
                         bad[i].line, bad[i].why);
                assert_string_equal(errstr, expected);
                /* a bad file changes nothing */
                assert_null(getenv("DOTENV_A"));
                unlink(path);
                free(path);
        }
}

static void test_dotenv_missing_file_is_fine(void **state)
{
        char errstr[CONFIG_ERRSTR_SIZE] = "";

        assert_int_equal(dotenv_load("/nonexistent/dir/.env", errstr,
                                            sizeof(errstr)),
                         0);
}

/* The fuzz target's entry: the same parse, nothing set, NULs refused. */
static void test_dotenv_check_parses_without_setting(void **state)
{
        static const char text[] = "# c\nexport DOTENV_CHECK_A=1\n"
                                   "DOTENV_CHECK_B=\"x\\ny\"\n\n";
        static const char nul[] = "A=1\nB=x\0y\n";
        char errstr[256] = "";

        (void)state;
        assert_int_equal(dotenv_check(text, sizeof(text) - 1, errstr,
                                      sizeof(errstr)),
                         2);
        assert_null(getenv("DOTENV_CHECK_A"));
        assert_int_equal(dotenv_check("", 0, errstr, sizeof(errstr)), 0);
        assert_int_equal(dotenv_check(nul, sizeof(nul) - 1, errstr,
                                      sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "<text>:2: NUL byte in line");
        assert_int_equal(dotenv_check("A='x\n", 5, errstr, sizeof(errstr)),
                         -1);
        assert_string_equal(errstr, "<text>:1: unterminated single quote");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dotenv_syntax),
                cmocka_unit_test(test_dotenv_malformed_line_names_file_and_line),
                cmocka_unit_test(test_dotenv_missing_file_is_fine),
                cmocka_unit_test(test_dotenv_check_parses_without_setting),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
