/* Notification lines to stdout and to the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_out.h"
#include "shared/util.h"

static int open_append(const char *path)
{
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int line_out_init(struct line_out *out, int stdout_fd, const char *path,
                  char *errstr, size_t errstr_size)
{
        out->stdout_fd = stdout_fd;
        out->file_fd = -1;
        out->path = NULL;
        if (!path)
                return 0;
        out->path = strdup(path);
        if (!out->path) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        out->file_fd = open_append(path);
        if (out->file_fd < 0) {
                snprintf(errstr, errstr_size,
                         "NOTIFICATION_LOG_FILE: cannot open '%s': %s", path,
                         strerror(errno));
                line_out_release(out);
                return -1;
        }
        return 0;
}

int line_out_write(struct line_out *out, const char *buf, size_t len,
                   unsigned *done_mask, char *errstr, size_t errstr_size)
{
        int ret = 0;

        if (!(*done_mask & LINE_OUT_STDOUT)) {
                if (write_all(out->stdout_fd, buf, len, -1) == 0) {
                        *done_mask |= LINE_OUT_STDOUT;
                } else {
                        snprintf(errstr, errstr_size,
                                 "cannot write to stdout: %s",
                                 strerror(errno));
                        ret = -1;
                }
        }
        if (out->file_fd < 0) {
                *done_mask |= LINE_OUT_FILE;
        } else if (!(*done_mask & LINE_OUT_FILE)) {
                if (write_all(out->file_fd, buf, len, -1) == 0) {
                        *done_mask |= LINE_OUT_FILE;
                } else {
                        snprintf(errstr, errstr_size,
                                 "cannot write to '%s': %s", out->path,
                                 strerror(errno));
                        ret = -1;
                }
        }
        return ret;
}

int line_out_reopen(struct line_out *out, char *errstr, size_t errstr_size)
{
        int fd;

        if (!out->path)
                return 0;
        fd = open_append(out->path);
        if (fd < 0) {
                snprintf(errstr, errstr_size, "cannot open '%s': %s",
                         out->path, strerror(errno));
                return -1;
        }
        if (out->file_fd >= 0)
                close(out->file_fd);
        out->file_fd = fd;
        return 0;
}

void line_out_release(struct line_out *out)
{
        if (out->file_fd >= 0)
                close(out->file_fd);
        out->file_fd = -1;
        free(out->path);
        out->path = NULL;
}
