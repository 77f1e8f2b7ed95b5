/* GET /: the page that lets a person follow an order in a browser. */
#ifndef ORDER_SERVICE_PAGE_H
#define ORDER_SERVICE_PAGE_H

#include <civetweb.h>

/* A mg_request_handler for "/" exactly; 'arg' is unused. */
int page_handler(struct mg_connection *conn, void *arg);

#endif
