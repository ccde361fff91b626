/* cli.h - subcommands of the vigil binary and their shared helpers.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input
 * file (corrupt or truncated recording). */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H
#include <stdint.h>

#define EXIT_USAGE 2
#define EXIT_BADINPUT 3

int cmd_trace(int argc, char **argv, int record_mode);
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_model(int argc, char **argv);

/* "500ms", "10s", "5m", "2h", "1d" or plain seconds -> ns; -EINVAL if bad */
int parse_duration(const char *s, uint64_t *ns);
/* "process,file,network,privilege" -> class mask; -EINVAL if bad */
int parse_types(const char *s, uint32_t *mask);
#endif
