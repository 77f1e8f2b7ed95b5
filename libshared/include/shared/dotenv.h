/* .env files: NAME=VALUE lines read into the environment at start-up,
 * before config.h reads it. */
#ifndef SHARED_DOTENV_H
#define SHARED_DOTENV_H

#include <stddef.h>

/* Read NAME=VALUE lines of 'path' into the environment without overriding
 * a variable that is already set (the environment wins). Blank lines and
 * '#' comments are skipped; "export " prefixes and single or double quotes
 * around the value are accepted. A missing file is not an error, and a
 * bad line changes nothing. Call before any thread starts: it uses
 * setenv(3). Returns 0, or -1 with errstr naming the file and line. */
int dotenv_load(const char *path, char *errstr, size_t errstr_size);

/* Parse 'len' bytes of .env text as dotenv_load() does, changing nothing
 * (the fuzz target and tests). Returns the number of NAME=VALUE entries,
 * or -1 with errstr naming the line ("<text>:<line>: ..."). */
int dotenv_check(const char *text, size_t len, char *errstr,
                 size_t errstr_size);

#endif
