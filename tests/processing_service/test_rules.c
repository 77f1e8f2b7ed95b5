/* processing_service's business rules: every status and reason, the
 * boundary of MAX_QUANTITY, and the catalog file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

static struct order make_order(const char *item, long long quantity)
{
        struct order o;

        memset(&o, 0, sizeof(o));
        snprintf(o.order_id, sizeof(o.order_id), "o-1");
        snprintf(o.user_id, sizeof(o.user_id), "user789");
        snprintf(o.item, sizeof(o.item), "%s", item);
        o.quantity = quantity;
        snprintf(o.created_at, sizeof(o.created_at), "2026-11-23T07:00:00.123Z");
        return o;
}

static void check(const struct rules *r, const char *item, long long qty,
                  enum order_status_kind want, const char *reason)
{
        struct order o = make_order(item, qty);
        struct order_status st;

        rules_check(&o, r, &st);
        assert_int_equal(st.status, want);
        assert_string_equal(st.reason, reason);
        assert_string_equal(st.order.order_id, "o-1");
        assert_string_equal(st.order.item, item);
        assert_int_equal(st.order.quantity, qty);
        assert_string_equal(st.processed_at, "");
}

static void test_confirmed_without_catalog(void **state)
{
        struct rules r;

        rules_init(&r, 100);
        check(&r, "laptop", 1, ORDER_STATUS_CONFIRMED, "");
        check(&r, "anything at all", 2, ORDER_STATUS_CONFIRMED, "");
        rules_release(&r);
}

static void test_quantity_boundary(void **state)
{
        struct rules r;

        rules_init(&r, 100);
        check(&r, "laptop", 100, ORDER_STATUS_CONFIRMED, "");
        check(&r, "laptop", 101, ORDER_STATUS_REJECTED, "quantity_limit");
        check(&r, "laptop", 1000000, ORDER_STATUS_REJECTED, "quantity_limit");
        rules_release(&r);
        rules_init(&r, 1);
        check(&r, "laptop", 1, ORDER_STATUS_CONFIRMED, "");
        check(&r, "laptop", 2, ORDER_STATUS_REJECTED, "quantity_limit");
        rules_release(&r);
}

static void test_catalog_lines(void **state)
{
        static const char text[] =
                "# the catalog\n"
                "laptop\n"
                "  mouse  \r\n"
                "\n"
                "   \t\n"
                "   # indented comment\n"
                "usb cable\n"
                "laptop\n"          /* duplicate */
                "Écran 27\"\n"
                "last-without-newline";
        struct rules r;
        char err[256];

        rules_init(&r, 100);
        assert_int_equal(rules_load_catalog_text(&r, "t", text, sizeof(text) - 1,
                                                 err, sizeof(err)), 0);
        assert_true(r.has_catalog);
        assert_int_equal(r.catalog_count, 5);
        assert_true(rules_item_is_known(&r, "laptop"));
        assert_true(rules_item_is_known(&r, "mouse"));
        assert_true(rules_item_is_known(&r, "usb cable"));
        assert_true(rules_item_is_known(&r, "Écran 27\""));
        assert_true(rules_item_is_known(&r, "last-without-newline"));
        assert_false(rules_item_is_known(&r, "# the catalog"));
        assert_false(rules_item_is_known(&r, "Laptop"));     /* exact match */
        assert_false(rules_item_is_known(&r, " mouse"));
        assert_false(rules_item_is_known(&r, ""));
        rules_release(&r);
}

static void test_unknown_item(void **state)
{
        struct rules r;
        char err[256];

        rules_init(&r, 100);
        assert_int_equal(rules_load_catalog_text(&r, "t", "laptop\nmouse\n", 13,
                                                 err, sizeof(err)), 0);
        check(&r, "laptop", 3, ORDER_STATUS_CONFIRMED, "");
        check(&r, "keyboard", 3, ORDER_STATUS_REJECTED, "unknown_item");
        /* An unknown item is the reason even when the quantity is over. */
        check(&r, "keyboard", 500, ORDER_STATUS_REJECTED, "unknown_item");
        check(&r, "mouse", 500, ORDER_STATUS_REJECTED, "quantity_limit");
        rules_release(&r);
}

static void test_empty_catalog_knows_nothing(void **state)
{
        struct rules r;
        char err[256];

        rules_init(&r, 100);
        assert_int_equal(rules_load_catalog_text(&r, "t", "# none\n\n", 8, err,
                                                 sizeof(err)), 0);
        check(&r, "laptop", 1, ORDER_STATUS_REJECTED, "unknown_item");
        rules_release(&r);
}

static void test_catalog_errors(void **state)
{
        struct rules r;
        char err[256], longline[700];

        rules_init(&r, 100);
        memset(longline, 'x', sizeof(longline) - 2);
        longline[sizeof(longline) - 2] = '\n';
        longline[sizeof(longline) - 1] = '\0';
        assert_int_equal(rules_load_catalog_text(&r, "cat.txt", longline,
                                                 strlen(longline), err,
                                                 sizeof(err)), -1);
        assert_non_null(strstr(err, "cat.txt"));
        assert_non_null(strstr(err, "line 1"));
        assert_int_equal(rules_load_catalog_text(&r, "cat.txt", "a\nb\0c\n", 6,
                                                 err, sizeof(err)), -1);
        assert_non_null(strstr(err, "line 2"));
        /* A failed load leaves the rules as they were. */
        assert_false(r.has_catalog);
        assert_int_equal(rules_load_catalog(&r, "/nonexistent/catalog.txt", err,
                                            sizeof(err)), -1);
        assert_non_null(strstr(err, "/nonexistent/catalog.txt"));
        assert_int_equal(rules_load_catalog(&r, "/", err, sizeof(err)), -1);
        assert_false(r.has_catalog);
        rules_release(&r);
}

static void test_catalog_file(void **state)
{
        char path[] = "/tmp/test_rules_XXXXXX";
        int fd = mkstemp(path);
        struct rules r;
        char err[256];

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "laptop\n#x\nmouse\n", 16), 16);
        close(fd);
        rules_init(&r, 100);
        assert_int_equal(rules_load_catalog(&r, path, err, sizeof(err)), 0);
        assert_int_equal(r.catalog_count, 2);
        check(&r, "mouse", 1, ORDER_STATUS_CONFIRMED, "");
        check(&r, "#x", 1, ORDER_STATUS_REJECTED, "unknown_item");
        /* Loading again replaces the catalog. */
        assert_int_equal(rules_load_catalog_text(&r, "t", "pen\n", 4, err,
                                                 sizeof(err)), 0);
        check(&r, "mouse", 1, ORDER_STATUS_REJECTED, "unknown_item");
        check(&r, "pen", 1, ORDER_STATUS_CONFIRMED, "");
        rules_release(&r);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_confirmed_without_catalog),
                cmocka_unit_test(test_quantity_boundary),
                cmocka_unit_test(test_catalog_lines),
                cmocka_unit_test(test_unknown_item),
                cmocka_unit_test(test_empty_catalog_knows_nothing),
                cmocka_unit_test(test_catalog_errors),
                cmocka_unit_test(test_catalog_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
