/* run_conf.c - `vigil run` flags and the config file (key: value lines,
 * the same settings as the flags; flags win, being read after). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/run_int.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil run [OPTIONS]\n"
		"  --data-dir DIR       models and state (default /var/lib/vigil)\n"
		"  --alerts FILE        also append alerts (JSON lines) to FILE\n"
		"  --learn-min D        minimum learning time per model "
		"(default 15m)\n"
		"  --learn-settle D     learning ends after D with nothing new "
		"(default 10m)\n"
		"  --config FILE        key: value settings (the flags' names "
		"with '_', e.g.\n"
		"                       data_dir, learn_min, default_mode, "
		"policy_dir)\n"
		"  --replay FILE        take events from a recording, not the "
		"kernel (no root)\n"
		"  --duration D         stop after D\n"
		"  --quiet              no alerts on stdout\n"
		"  --model-host         also model host processes outside "
		"systemd units\n"
		"  --metrics HOST:PORT  serve Prometheus metrics at /metrics\n"
		"  --storm-limit N      alerts per resource per minute before one "
		"summary (30; 0 off)\n"
		"  --rules FILE         more detection rules (rules/builtin.yaml "
		"form)\n"
		"  --no-builtin-rules   only models and --rules\n"
		"  --min-score N        report anomalies scoring at least N "
		"(default 30;\n"
		"                       lower ones are counted, see the exit "
		"summary)\n"
		"  --policy-dir DIR     policies (default DATA_DIR/policies; "
		"reloaded on\n"
		"                       change and on SIGHUP)\n"
		"  --default-mode M     mode of containers never set with 'vigil "
		"mode set':\n"
		"                       learn (default), monitor, shadow or "
		"protect\n"
		ALERT_USAGE
		RUNREC_USAGE);
}

/* The output and alert settings a config file may set, like their flags.
 * Values are copied: they outlive the line buffer for the whole run. */
static int config_output(struct run_conf *c, const char *k, const char *v)
{
	static const struct {
		const char *key;
		int opt;
	} outs[] = {
		{"alerts_format", ALERT_OPT_ALERTS_FORMAT},
		{"syslog", ALERT_OPT_SYSLOG},
		{"syslog_format", ALERT_OPT_SYSLOG_FORMAT},
		{"syslog_facility", ALERT_OPT_SYSLOG_FACILITY},
		{"webhook", ALERT_OPT_WEBHOOK},
		{"webhook_header", ALERT_OPT_WEBHOOK_HEADER},
		{"webhook_format", ALERT_OPT_WEBHOOK_FORMAT},
	};
	char *copy = strdup(v), *end;
	long n;

	if (!copy)
		return -1;
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (!strcmp(k, outs[i].key))
			return alert_conf_option(&c->ac, outs[i].opt, copy);
	if (!strcmp(k, "metrics")) {
		c->metrics = copy;
		return 0;
	}
	if (!strcmp(k, "rules")) {
		c->rules = copy;
		return 0;
	}
	if (!strcmp(k, "policy_dir")) {
		snprintf(c->policy_dir, sizeof(c->policy_dir), "%s", v);
		free(copy);
		return 0;
	}
	if (!strcmp(k, "default_mode")) {
		free(copy);
		c->default_mode = renf_mode_parse(v);
		return c->default_mode < 0 ? -1 : 0;
	}
	n = strtol(v, &end, 10);
	free(copy);
	if (*end || n < 0)
		return -1;
	if (!strcmp(k, "min_score") && n <= 100)
		c->min_score = (int)n;
	else if (!strcmp(k, "storm_limit") && n <= 100000)
		c->storm_limit = (int)n;
	else
		return -1;
	return 0;
}

/* "key: value" lines; '#' comments. Unknown keys are errors. */
static int read_config(const char *path, struct run_conf *c)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "vigil: cannot read config '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *end;

		lineno++;
		line[strcspn(line, "#\n")] = 0;
		while (*k == ' ' || *k == '\t')
			k++;
		if (!*k)
			continue;
		v = strchr(k, ':');
		if (!v)
			goto bad;
		*v++ = 0;
		while (*v == ' ' || *v == '\t')
			v++;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		if (!strcmp(k, "data_dir"))
			snprintf(c->data_dir, sizeof(c->data_dir), "%s", v);
		else if (!strcmp(k, "alerts"))
			snprintf(c->alerts, sizeof(c->alerts), "%s", v);
		else if (!strcmp(k, "learn_min")) {
			if (parse_duration(v, &c->learn_min) < 0)
				goto bad;
		} else if (!strcmp(k, "learn_settle")) {
			if (parse_duration(v, &c->learn_settle) < 0)
				goto bad;
		} else if (config_output(c, k, v) < 0) {
			goto bad;
		}
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "vigil: %s:%d: bad setting (want data_dir, alerts, "
			"learn_min, learn_settle, min_score, storm_limit, metrics, "
			"rules, policy_dir, default_mode, alerts_format, syslog, syslog_format, "
			"syslog_facility, webhook, webhook_header or "
			"webhook_format: value)\n", path, lineno);
	fclose(f);
	return -1;
}

int run_parse_args(int argc, char **argv, struct run_conf *c)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, 0, 'D'},
		{"alerts", required_argument, 0, 'a'},
		{"learn-min", required_argument, 0, 'm'},
		{"learn-settle", required_argument, 0, 's'},
		{"config", required_argument, 0, 'c'},
		{"replay", required_argument, 0, 'r'},
		{"duration", required_argument, 0, 'd'},
		{"quiet", no_argument, 0, 'q'},
		{"model-host", no_argument, 0, 'H'},
		{"min-score", required_argument, 0, 'S'},
		{"rules", required_argument, 0, 'R'},
		{"no-builtin-rules", no_argument, 0, 'N'},
		{"metrics", required_argument, 0, 'M'},
		{"storm-limit", required_argument, 0, 'L'},
		{"policy-dir", required_argument, 0, 'P'},
		{"default-mode", required_argument, 0, 'O'},
		RUNREC_LONGOPTS,
		{"help", no_argument, 0, 'h'},
		ALERT_LONGOPTS,
		{0, 0, 0, 0},
	};
	int opt;

	c->min_score = 30;
	c->storm_limit = 30;
	snprintf(c->data_dir, sizeof(c->data_dir), "%s",
		 getenv("VIGIL_DATA_DIR") ? getenv("VIGIL_DATA_DIR")
					  : "/var/lib/vigil");
	/* the config file first, so flags override it */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") && read_config(argv[i + 1], c) < 0)
			return EXIT_USAGE;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			snprintf(c->data_dir, sizeof(c->data_dir), "%s", optarg);
			break;
		case 'a':
			snprintf(c->alerts, sizeof(c->alerts), "%s", optarg);
			break;
		case 'm':
		case 's':
		case 'd':
			if (parse_duration(optarg, opt == 'm' ? &c->learn_min :
						   opt == 's' ? &c->learn_settle
							      : &c->duration) < 0) {
				fprintf(stderr, "vigil: bad duration '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			break;
		case 'r':
			c->replay = optarg;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'R':
			c->rules = optarg;
			break;
		case 'N':
			c->no_builtin_rules = 1;
			break;
		case 'M':
			c->metrics = optarg;
			break;
		case 'P':
			snprintf(c->policy_dir, sizeof(c->policy_dir), "%s",
				 optarg);
			break;
		case 'O':
			c->default_mode = renf_mode_parse(optarg);
			if (c->default_mode < 0) {
				fprintf(stderr, "vigil: bad --default-mode '%s' "
					"(learn, monitor, shadow, protect)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'L': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 100000) {
				fprintf(stderr, "vigil: bad --storm-limit '%s'\n", optarg);
				return EXIT_USAGE;
			}
			c->storm_limit = (int)v;
			break;
		}
		case 'H':
			c->model_host = 1;
			break;
		case 'S': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 100) {
				fprintf(stderr, "vigil: bad --min-score '%s' (0-100)\n",
					optarg);
				return EXIT_USAGE;
			}
			c->min_score = (int)v;
			break;
		}
		case RUNREC_OPT_FIRST ... RUNREC_OPT_LAST:
			if (run_rec_option(&c->rec, opt, optarg) < 0)
				return EXIT_USAGE;
			break;
		case ALERT_OPT_FIRST ... ALERT_OPT_LAST:
			if (alert_conf_option(&c->ac, opt, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!c->policy_dir[0])
		snprintf(c->policy_dir, sizeof(c->policy_dir), "%.*s/policies",
			 (int)sizeof(c->policy_dir) - 10, c->data_dir);
	return 0;
}
