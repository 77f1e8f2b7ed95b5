/* Draining a listening port on Linux before civetweb's mg_stop(), which
 * sends nothing once it has begun: new connections are refused with a
 * socket filter, and the connections already accepted or queued on the
 * port are watched through /proc/self/fd and TCP_INFO until none is left.
 * See http_server_drain() in shared/http.h. */
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_drain.h"
#include "shared/deadline.h"
#include "shared/log.h"
#include "shared/util.h"

/* At most this many listening sockets per server (civetweb binds one per
 * entry of listening_ports; we give it one). */
#define HTTP_LISTENERS_MAX 4
/* How often the drain looks, and for how long all must stay quiet: a
 * handshake whose SYN came just before the filter completes within it
 * (loopback or LAN round trips), and so enters the backlog we watch. */
#define HTTP_DRAIN_POLL_MS 20
#define HTTP_DRAIN_QUIET_MS 200

/* Drop every segment with SYN set and ACK clear, that is every new
 * connection attempt, and pass the rest. A classic BPF program attached
 * to a TCP socket sees the segment from its TCP header, whose byte 13
 * holds the flags. The client's SYN goes unanswered and is sent again
 * (after 1 s, 3 s, ...); once the socket is closed the repeat gets a
 * reset: "connection refused", with nothing sent. */
static const struct sock_filter syn_drop_code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),       /* SYN | ACK */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1), /* SYN alone */
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
};

/* The local TCP port of socket 'fd', or -1 when it is not an IPv4 TCP
 * socket. *listening says whether it is a listening one. */
static int socket_local_port(int fd, bool *listening)
{
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        int type = 0, accepting = 0;
        socklen_t ilen = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ilen) == -1 ||
            type != SOCK_STREAM)
                return -1;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1 ||
            sa.sin_family != AF_INET)
                return -1;
        ilen = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &ilen) ==
            -1)
                return -1;
        *listening = accepting != 0;
        return ntohs(sa.sin_port);
}

/* Civetweb 1.15 does not hand out its sockets, so look through ours: the
 * listening sockets on the port of 'srv' go into 'listeners' (at most
 * HTTP_LISTENERS_MAX, their count in *nlisteners) and the connections on
 * it, accepted and not yet closed, wherever civetweb holds them (its queue
 * or a worker), are counted. Returns that count, or -1 when the
 * descriptors cannot be listed. */
static int port_sockets(int port, int *listeners, int *nlisteners)
{
        DIR *dir = opendir("/proc/self/fd");
        struct dirent *de;
        int connections = 0;

        *nlisteners = 0;
        if (!dir)
                return -1;
        while ((de = readdir(dir)) != NULL) {
                char *end;
                long fd = strtol(de->d_name, &end, 10);
                bool listening;

                if (end == de->d_name || *end || fd == dirfd(dir) ||
                    socket_local_port((int)fd, &listening) != port)
                        continue;
                if (!listening)
                        connections++;
                else if (*nlisteners < HTTP_LISTENERS_MAX)
                        listeners[(*nlisteners)++] = (int)fd;
        }
        closedir(dir);
        return connections;
}

/* Connections the kernel has established on 'fds' that nobody has
 * accepted yet (for a listening socket, tcpi_unacked is its backlog). */
static unsigned backlog_length(const int *fds, int n)
{
        unsigned total = 0;

        for (int i = 0; i < n; i++) {
                struct tcp_info ti;
                socklen_t len = sizeof(ti);

                if (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
                        total += ti.tcpi_unacked;
        }
        return total;
}

int http_drain_port(int port, int timeout_ms)
{
        const struct sock_fprog prog = {
                .len = sizeof(syn_drop_code) / sizeof(syn_drop_code[0]),
                .filter = (struct sock_filter *)syn_drop_code,
        };
        int listeners[HTTP_LISTENERS_MAX], nlisteners = 0, left, ret = 0;
        int64_t now, deadline, quiet_since = -1;
        unsigned queued;

        if (port_sockets(port, listeners, &nlisteners) == -1 ||
            nlisteners == 0) {
                log_write(LOG_LEVEL_WARN,
                          "cannot find the listening socket: new connections "
                          "are not refused while draining",
                          (struct log_field[]){LOG_INT("server.port", port)},
                          1);
                ret = -1;
        }
        for (int i = 0; i < nlisteners; i++)
                if (setsockopt(listeners[i], SOL_SOCKET, SO_ATTACH_FILTER,
                               &prog, sizeof(prog)) == -1) {
                        log_write(LOG_LEVEL_WARN,
                                  "cannot refuse new connections while "
                                  "draining",
                                  (struct log_field[]){
                                          LOG_INT("server.port", port),
                                          LOG_STR("error.message",
                                                  strerror(errno)),
                                  },
                                  2);
                        ret = -1;
                }

        deadline = deadline_in(timeout_ms);
        for (;;) {
                /* The backlog first: a connection accepted between the two
                 * looks is then seen as a descriptor. */
                queued = backlog_length(listeners, nlisteners);
                left = port_sockets(port, listeners, &nlisteners);
                now = time_monotonic_ms();
                if (queued == 0 && left == 0) {
                        if (quiet_since < 0)
                                quiet_since = now;
                        if (now - quiet_since >= HTTP_DRAIN_QUIET_MS)
                                return ret;
                } else {
                        quiet_since = -1;
                }
                if (now >= deadline) {
                        log_write(LOG_LEVEL_WARN,
                                  "connections still open at the end of the "
                                  "drain: they are closed without an answer",
                                  (struct log_field[]){
                                          LOG_INT("http.connections_open", left),
                                          LOG_INT("http.connections_queued",
                                                  queued),
                                          LOG_INT("http.drain_ms", timeout_ms),
                                  },
                                  3);
                        return -1;
                }
                nanosleep(&(struct timespec){
                                  .tv_nsec = HTTP_DRAIN_POLL_MS * 1000000L},
                          NULL);
        }
}
