/* GET /: a page that posts an order, follows the Location of the 202 and
 * watches the order's events with EventSource (order_service/web/
 * index.html, embedded at build time like openapi.json). Worker thread. */
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

#include "page.h"
#include "shared/http.h"

extern const char index_html[];
extern const size_t index_html_len;

int page_handler(struct mg_connection *conn, void *arg)
{
        const struct mg_request_info *ri = mg_get_request_info(conn);
        char length[32];

        (void)arg;
        /* Only "/" as sent: "/orders/..%2f" also ends as "/" once civetweb
         * has removed its dot segments, and gets the JSON 404. */
        if (ri->local_uri_raw && strcmp(ri->local_uri_raw, "/") != 0)
                return http_reply_error(conn, 404, "not_found",
                                        "no such resource", NULL, NULL);
        if (strcmp(ri->request_method, "GET") != 0)
                return http_reply_error(conn, 405, "method_not_allowed",
                                        "use GET", NULL, "Allow: GET\r\n");
        snprintf(length, sizeof(length), "%zu", index_html_len);
        mg_response_header_start(conn, 200);
        mg_response_header_add(conn, "Content-Type", "text/html; charset=utf-8",
                               -1);
        mg_response_header_add(conn, "Content-Length", length, -1);
        mg_response_header_add(conn, "Cache-Control", "no-store", -1);
        mg_response_header_add(conn, "Content-Security-Policy",
                               "default-src 'self'; script-src 'unsafe-inline' "
                               "'self'; style-src 'unsafe-inline'",
                               -1);
        mg_response_header_send(conn);
        mg_write(conn, index_html, index_html_len);
        return 200;
}
