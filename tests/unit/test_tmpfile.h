/* A temporary file with given content, for the unit tests that read files
 * (.env, catalogs). Include after <cmocka.h>: it asserts. */
#ifndef TEST_TMPFILE_H
#define TEST_TMPFILE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write 'text' to a new file under /tmp; returns its path (free(3) it,
 * unlink(2) the file). */
static inline char *test_tmpfile(const char *text)
{
        char *path = strdup("/tmp/pipeline_test_XXXXXX");
        int fd;

        assert_non_null(path);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

#endif
