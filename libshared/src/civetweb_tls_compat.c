/* A shim named libssl.so for civetweb 1.15's HTTPS on OpenSSL 3.
 *
 * Debian 12's civetweb dlopen()s "libssl.so" and looks up each OpenSSL 1.1
 * function by name; OpenSSL 3 no longer exports SSL_get_peer_certificate
 * (a macro for SSL_get1_peer_certificate now), so civetweb's TLS fails to
 * start ("load_tls_dll: libssl.so: cannot find SSL_get_peer_certificate",
 * civetweb issue #1334). order_service is linked against this library,
 * whose soname is "libssl.so": the loader maps it at start, civetweb's
 * dlopen("libssl.so") finds it already loaded, and dlsym() finds that one
 * function here and every other one in libssl.so.3, which this library
 * needs. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);

/* The peer's certificate with a new reference, as in OpenSSL 1.1. */
X509 *SSL_get_peer_certificate(const SSL *s)
{
        return SSL_get1_peer_certificate(s);
}
