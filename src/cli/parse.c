/* parse.c - option value parsers shared by the subcommands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;
	double mult = 1e9;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "s") || !*end)
		mult = 1e9;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else if (!strcmp(end, "d"))
		mult = 86400e9;
	else
		return -EINVAL;
	if (v * mult > 1.8e19)
		return -EINVAL;
	*ns = (uint64_t)(v * mult);
	return 0;
}

int parse_types(const char *s, uint32_t *mask)
{
	char buf[256], *save = NULL, *tok;
	uint32_t m = 0;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "process"))
			m |= 1;
		else if (!strcmp(tok, "file"))
			m |= 2;
		else if (!strcmp(tok, "network"))
			m |= 4;
		else if (!strcmp(tok, "privilege"))
			m |= 8;
		else
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}
