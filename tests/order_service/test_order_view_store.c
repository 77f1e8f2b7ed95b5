/* The order-status view's data (view_store.c) and the parsing of the GET
 * paths (orders_get.c): pure, no broker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orders_get.h"
#include "view_store.h"

static struct order order_of(const char *id, const char *user, long long q)
{
        struct order o;

        memset(&o, 0, sizeof(o));
        snprintf(o.order_id, sizeof(o.order_id), "%s", id);
        snprintf(o.user_id, sizeof(o.user_id), "%s", user);
        snprintf(o.item, sizeof(o.item), "pen");
        o.quantity = q;
        snprintf(o.created_at, sizeof(o.created_at), "2026-12-03T10:00:00.000Z");
        return o;
}

static struct order_status status_of(const char *id, enum order_status_kind k)
{
        struct order_status st;

        memset(&st, 0, sizeof(st));
        st.order = order_of(id, "u1", 2);
        st.status = k;
        if (k == ORDER_STATUS_REJECTED)
                snprintf(st.reason, sizeof(st.reason), "quantity_limit");
        snprintf(st.processed_at, sizeof(st.processed_at),
                 "2026-12-03T10:00:01.000Z");
        return st;
}

static void test_order_then_status_makes_two_events_in_order(void **state)
{
        struct view_store s;
        struct order o = order_of("a", "u1", 2);
        struct order_status st = status_of("a", ORDER_STATUS_CONFIRMED);
        struct view_entry *e;
        struct view_event ev;
        struct strbuf sb = STRBUF_INIT;
        bool oom;

        assert_int_equal(view_store_init(&s, 10, 0, "orders", "notif"), 0);
        e = view_store_apply_order(&s, &o, 1, 7, 1000, &oom);
        assert_non_null(e);
        assert_false(view_entry_is_final(e));
        assert_null(view_store_apply_order(&s, &o, 1, 8, 1000, &oom));
        assert_false(oom);
        assert_ptr_equal(view_store_apply_status(&s, &st, 2, 3, 1001, &oom), e);
        assert_true(view_entry_is_final(e));
        assert_null(view_store_apply_status(&s, &st, 2, 4, 1001, &oom));
        assert_true(e->accepted.seq < e->final.seq);
        assert_int_equal(view_event_of(&s, e, &e->accepted, &ev), 0);
        assert_string_equal(ev.id, "orders-1-7");
        assert_string_equal(ev.status, "accepted");
        assert_non_null(strstr(ev.data, "\"processed_at\":null"));
        view_event_release(&ev);
        assert_int_equal(view_event_of(&s, e, &e->final, &ev), 0);
        assert_string_equal(ev.id, "notif-2-3");
        assert_string_equal(ev.status, "confirmed");
        view_event_release(&ev);
        view_entry_json(e, false, &sb);
        assert_string_equal(sb.buf,
                            "{\"order_id\":\"a\",\"status\":\"confirmed\","
                            "\"reason\":null,\"user_id\":\"u1\",\"item\":"
                            "\"pen\",\"quantity\":2,\"created_at\":"
                            "\"2026-12-03T10:00:00.000Z\",\"processed_at\":"
                            "\"2026-12-03T10:00:01.000Z\"}");
        strbuf_release(&sb);
        view_store_release(&s);
}

static void test_status_before_order_never_goes_back(void **state)
{
        struct view_store s;
        struct order o = order_of("a", "u1", 2);
        struct order_status st = status_of("a", ORDER_STATUS_REJECTED);
        struct view_entry *e;
        bool oom;

        assert_int_equal(view_store_init(&s, 10, 0, "o", "n"), 0);
        e = view_store_apply_status(&s, &st, 0, 0, 1000, &oom);
        assert_non_null(e);
        assert_string_equal(e->created_at, "");
        assert_null(view_store_apply_order(&s, &o, 0, 0, 1000, &oom));
        assert_int_equal(e->status, VIEW_REJECTED);
        assert_string_equal(e->created_at, "2026-12-03T10:00:00.000Z");
        assert_string_equal(e->reason, "quantity_limit");
        view_store_release(&s);
}

static void test_bounds_evict_the_oldest_first(void **state)
{
        struct view_store s;
        char id[16];
        bool oom;

        assert_int_equal(view_store_init(&s, 1500, 60000, "o", "n"), 0);
        for (int i = 0; i < 2000; i++) {
                struct order o;

                snprintf(id, sizeof(id), "id-%d", i);
                o = order_of(id, "u", 1);
                assert_non_null(view_store_apply_order(&s, &o, 0, i, 1000 + i,
                                                       &oom));
                view_store_expire(&s, 1000 + i);
        }
        assert_int_equal(s.count, 1500);
        assert_null(view_store_find(&s, "id-499"));
        assert_non_null(view_store_find(&s, "id-500"));
        /* Age: everything before 61000 + 1000 - 60000 goes. */
        assert_int_equal(view_store_expire(&s, 61000 + 1000), 500);
        assert_null(view_store_find(&s, "id-999"));
        assert_non_null(view_store_find(&s, "id-1000"));
        assert_true(view_store_is_expired(&s, 1000, 62000));
        view_store_release(&s);
}

static void test_same_order_compares_content(void **state)
{
        struct view_store s;
        struct order o = order_of("a", "u1", 2), other = order_of("a", "u1", 3);
        struct view_entry *e;
        bool oom;

        assert_int_equal(view_store_init(&s, 10, 0, "o", "n"), 0);
        e = view_store_apply_order(&s, &o, 0, 0, 1, &oom);
        assert_true(view_entry_same_order(e, &o));
        assert_false(view_entry_same_order(e, &other));
        view_store_release(&s);
}

static void test_paths(void **state)
{
        char id[ORDER_ID_MAX_CHARS + 1], big[200];
        int ev;

        assert_int_equal(orders_path_parse("/orders/a.b:c-1_", id, sizeof(id),
                                           &ev), 0);
        assert_string_equal(id, "a.b:c-1_");
        assert_int_equal(ev, 0);
        assert_int_equal(orders_path_parse("/orders/x/events", id, sizeof(id),
                                           &ev), 0);
        assert_int_equal(ev, 1);
        assert_int_equal(orders_path_parse("/orders/", id, sizeof(id), &ev), -1);
        assert_int_equal(orders_path_parse("/orders/a b", id, sizeof(id), &ev),
                         -1);
        assert_int_equal(orders_path_parse("/orders/x/y", id, sizeof(id), &ev),
                         -2);
        assert_int_equal(orders_path_parse("/other/x", id, sizeof(id), &ev), -2);
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memcpy(big, "/orders/", 8);
        assert_int_equal(orders_path_parse(big, id, sizeof(id), &ev), -1);
}

static void test_wait_values(void **state)
{
        long ms;

        assert_int_equal(orders_wait_parse("30", &ms), 0);
        assert_int_equal(ms, 30000);
        assert_int_equal(orders_wait_parse("0.25", &ms), 0);
        assert_int_equal(ms, 250);
        assert_int_equal(orders_wait_parse("0", &ms), -1);
        assert_int_equal(orders_wait_parse("30.001", &ms), -1);
        assert_int_equal(orders_wait_parse("-1", &ms), -1);
        assert_int_equal(orders_wait_parse("1e1", &ms), -1);
        assert_int_equal(orders_wait_parse("", &ms), -1);
        assert_int_equal(orders_wait_parse("nan", &ms), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_order_then_status_makes_two_events_in_order),
                cmocka_unit_test(test_status_before_order_never_goes_back),
                cmocka_unit_test(test_bounds_evict_the_oldest_first),
                cmocka_unit_test(test_same_order_compares_content),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_wait_values),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
