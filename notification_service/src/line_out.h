/* Where notification lines go: stdout, and the file Filebeat reads when
 * NOTIFICATION_LOG_FILE is set. Each line is one write(2) per sink (the
 * file is opened O_APPEND, so a line is never interleaved with another
 * writer's), retried on EINTR and short writes. Used by one thread (the
 * consumer's). */
#ifndef NOTIFICATION_LINE_OUT_H
#define NOTIFICATION_LINE_OUT_H

#include <stddef.h>

#define LINE_OUT_STDOUT 1u
#define LINE_OUT_FILE   2u

struct line_out {
        int stdout_fd;
        int file_fd;  /* -1 when no file */
        char *path;   /* owned; NULL when no file */
};

/* Open 'path' (NULL: stdout only) for appending, creating it 0644.
 * Returns 0, or -1 with errstr naming the file. */
int line_out_init(struct line_out *out, int stdout_fd, const char *path,
                  char *errstr, size_t errstr_size);

/* Write 'len' bytes to each sink not yet in *done_mask, adding each that
 * succeeds to it. Returns 0 when every sink has the line, or -1 with
 * errstr (call again with the same mask to retry only what failed). */
int line_out_write(struct line_out *out, const char *buf, size_t len,
                   unsigned *done_mask, char *errstr, size_t errstr_size);

/* Open the path again (after logrotate moved the file away) and switch to
 * it; the old descriptor is kept when the new one cannot be opened.
 * Returns 0, or -1 with errstr. No operation without a file. */
int line_out_reopen(struct line_out *out, char *errstr, size_t errstr_size);

/* Close the file and free the path. */
void line_out_release(struct line_out *out);

#endif
