/* test_alert_format_golden.h - expected renderings for test_alert_format.c
 * (regenerate: VIGIL_GOLDEN_DIR=DIR build/tests/test_alert_format, then
 * review every difference before pasting it here). */
#define GOLD_EXEC_ECS \
	"{\"@timestamp\":\"2026-11-02T01:00:00.123456789Z\",\"event\":{\"ki" \
	"nd\":\"alert\",\"category\":[\"process\"],\"type\":[\"info\"],\"ac" \
	"tion\":\"anomaly\",\"dataset\":\"vigil.model\",\"severity\":70,\"r" \
	"isk_score\":70},\"message\":\"new process '/bin/sh <- /usr/sbin/ng" \
	"inx' not in model 'container:web1'\",\"rule\":{\"name\":\"Behaviou" \
	"r outside the learned model\",\"category\":\"process\",\"ruleset\"" \
	":\"vigil-model\"},\"threat\":{\"framework\":\"MITRE ATT&CK\",\"tec" \
	"hnique\":{\"id\":[\"T1059\"]}},\"host\":{\"name\":\"node-1\"},\"pr" \
	"ocess\":{\"pid\":4242,\"thread\":{\"id\":4242},\"name\":\"sh\",\"e" \
	"xecutable\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"id; cat /etc/pas" \
	"swd\"],\"args_count\":3,\"working_directory\":\"/\",\"parent\":{\"" \
	"pid\":100,\"executable\":\"/usr/sbin/nginx\"}},\"user\":{\"id\":\"" \
	"0\",\"group\":{\"id\":\"0\"},\"effective\":{\"id\":\"0\"}},\"conta" \
	"iner\":{\"id\":\"3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112" \
	"233445566778899\",\"name\":\"web1\",\"runtime\":\"docker\",\"image" \
	"\":{\"name\":\"registry.local:5000/shop/web:1.2\"}},\"orchestrator" \
	"\":{\"type\":\"kubernetes\",\"namespace\":\"shop\",\"resource\":{" \
	"\"type\":\"pod\",\"name\":\"web-7d4\",\"id\":\"\"}},\"vigil\":{\"a" \
	"lert\":{\"id\":\"bb63dd09d19d8532\",\"source\":\"model\",\"kind\":" \
	"\"new_item\",\"level\":\"high\",\"score\":70,\"title\":\"Behaviour" \
	" outside the learned model\",\"explanation\":\"new process '/bin/s" \
	"h <- /usr/sbin/nginx' not in model 'container:web1'\",\"dimension" \
	"\":\"process\",\"item\":\"/bin/sh <- /usr/sbin/nginx\",\"nearest\"" \
	":[\"/usr/sbin/nginx <- /usr/bin/runc\"],\"action_taken\":\"alerted" \
	"\",\"count\":1,\"first_seen\":\"2026-11-02T01:00:00.123456789Z\"," \
	"\"last_seen\":\"2026-11-02T01:00:00.123456789Z\"},\"model\":{\"key" \
	"\":\"container:web1\",\"kind\":\"container\",\"state\":\"learning" \
	"\",\"age_s\":3600,\"entries\":0},\"trigger\":{\"action\":\"exec\"}" \
	"}}"
#define GOLD_EXEC_FALCO \
	"{\"hostname\":\"node-1\",\"output\":\"01:00:00.123456789: Error new " \
	"process '/bin/sh <- /usr/sbin/nginx' not in model 'container:web1' (" \
	"user_uid=0 process=sh proc_exepath=/bin/sh parent_exepath=/usr/sbin/" \
	"nginx command=sh -c id; cat /etc/passwd container_id=3f4e5d6c7b8a co" \
	"ntainer_name=web1 image=registry.local:5000/shop/web:1.2 k8s_ns=shop" \
	" k8s_pod=web-7d4 model=container:web1)\",\"priority\":\"Error\",\"ru" \
	"le\":\"Behaviour outside the learned model\",\"source\":\"vigil\",\"" \
	"tags\":[\"vigil\",\"container\",\"process\",\"mitre_execution\",\"TA" \
	"0002\"],\"time\":\"2026-11-02T01:00:00.123456789Z\",\"output_fields\"" \
	":{\"container.full_id\":\"3f4e5d6c7b8a99887766554433221100ffeeddccbb" \
	"aa00112233445566778899\",\"container.id\":\"3f4e5d6c7b8a\",\"contain" \
	"er.image.repository\":\"registry.local:5000/shop/web\",\"container.i" \
	"mage.tag\":\"1.2\",\"container.name\":\"web1\",\"evt.time\":17935812" \
	"00123456789,\"fd.name\":null,\"fd.sip\":null,\"fd.sport\":null,\"k8s" \
	".ns.name\":\"shop\",\"k8s.pod.name\":\"web-7d4\",\"proc.cmdline\":\"" \
	"sh -c id; cat /etc/passwd\",\"proc.exepath\":\"/bin/sh\",\"proc.name" \
	"\":\"sh\",\"proc.pexepath\":\"/usr/sbin/nginx\",\"proc.pid\":4242,\"" \
	"proc.ppid\":100,\"user.uid\":0,\"vigil.alert.dimension\":\"process\"" \
	",\"vigil.alert.id\":\"bb63dd09d19d8532\",\"vigil.alert.item\":\"/bin" \
	"/sh <- /usr/sbin/nginx\",\"vigil.alert.kind\":\"new_item\",\"vigil.a" \
	"lert.level\":\"high\",\"vigil.alert.score\":70,\"vigil.alert.source\"" \
	":\"model\",\"vigil.model.key\":\"container:web1\",\"vigil.rule.id\":" \
	"null,\"vigil.service\":null}}"
#define GOLD_EXEC_OCSF \
	"{\"activity_id\":1,\"activity_name\":\"Create\",\"category_uid\":2,\"" \
	"category_name\":\"Findings\",\"class_uid\":2004,\"class_name\":\"Det" \
	"ection Finding\",\"type_uid\":200401,\"type_name\":\"Detection Findi" \
	"ng: Create\",\"severity_id\":4,\"severity\":\"High\",\"status_id\":1" \
	",\"status\":\"New\",\"time\":1793581200123,\"message\":\"new process" \
	" '/bin/sh <- /usr/sbin/nginx' not in model 'container:web1'\",\"risk" \
	"_score\":70,\"metadata\":{\"uid\":\"bb63dd09d19d8532\",\"version\":\"" \
	"1.1.0\",\"product\":{\"name\":\"Vigil\",\"vendor_name\":\"Vigil\",\"" \
	"version\":\"0.1.0\"}},\"finding_info\":{\"uid\":\"bb63dd09d19d8532\"" \
	",\"title\":\"Behaviour outside the learned model\",\"desc\":\"new pr" \
	"ocess '/bin/sh <- /usr/sbin/nginx' not in model 'container:web1'\",\"" \
	"types\":[\"new_item\",\"process\"],\"created_time\":1793581200123,\"" \
	"analytic\":{\"name\":\"vigil-model\",\"type_id\":2,\"type\":\"Behavi" \
	"oral\",\"uid\":\"container:web1\"}},\"device\":{\"hostname\":\"node-" \
	"1\",\"type_id\":0,\"type\":\"Unknown\"},\"resources\":[{\"uid\":\"3f" \
	"4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899\",\"n" \
	"ame\":\"web1\",\"type\":\"container\"}],\"evidences\":[{\"process\":" \
	"{\"pid\":4242,\"name\":\"sh\",\"cmd_line\":\"sh -c id; cat /etc/pass" \
	"wd\",\"file\":{\"name\":\"sh\",\"path\":\"/bin/sh\",\"type_id\":1,\"" \
	"type\":\"Regular File\"},\"parent_process\":{\"pid\":100,\"file\":{\"" \
	"name\":\"nginx\",\"path\":\"/usr/sbin/nginx\",\"type_id\":1,\"type\"" \
	":\"Regular File\"}},\"user\":{\"uid\":\"0\"},\"container\":{\"uid\":" \
	"\"3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899\"" \
	",\"name\":\"web1\",\"image\":{\"name\":\"registry.local:5000/shop/we" \
	"b\",\"tag\":\"1.2\"}}}}],\"unmapped\":{\"vigil\":{\"kind\":\"new_ite" \
	"m\",\"dimension\":\"process\",\"item\":\"/bin/sh <- /usr/sbin/nginx\"" \
	",\"level\":\"high\",\"source\":\"model\",\"model\":\"container:web1\"" \
	",\"tags\":[\"vigil\",\"container\",\"process\",\"mitre_execution\",\"" \
	"TA0002\"]}}}"
#define GOLD_EXEC_CEF \
	"CEF:0|Vigil|Vigil|0.1.0|new_item:process|Behaviour outside the learn" \
	"ed model|8|rt=1793581200123 dvchost=node-1 externalId=bb63dd09d19d85" \
	"32 cat=process act=alerted cn1=70 cn1Label=score suid=0 spid=4242 sp" \
	"roc=sh cs1=3f4e5d6c7b8a99887766554433221100ffeeddccbbaa0011223344556" \
	"6778899 cs1Label=containerId cs2=web1 cs2Label=containerName cs3=reg" \
	"istry.local:5000/shop/web:1.2 cs3Label=containerImage cs4=container:" \
	"web1 cs4Label=vigilModel cs5=/bin/sh <- /usr/sbin/nginx cs5Label=vig" \
	"ilItem msg=new process '/bin/sh <- /usr/sbin/nginx' not in model 'co" \
	"ntainer:web1'"
#define GOLD_EXEC_SYSLOG \
	"<131>1 2026-11-02T01:00:00.123456Z node-1 vigil 777 alert - {\"m\":1" \
	"}"
#define GOLD_RULE_ECS \
	"{\"@timestamp\":\"2026-11-02T00:00:00.000999999Z\",\"event\":{\"ki" \
	"nd\":\"alert\",\"category\":[\"file\"],\"type\":[\"info\"],\"actio" \
	"n\":\"anomaly\",\"dataset\":\"vigil.detection\",\"severity\":80,\"" \
	"risk_score\":80},\"message\":\"key=value | back\\\\slash\\nsecond " \
	"line\\r\",\"rule\":{\"id\":\"credential-file-read\",\"name\":\"Rea" \
	"d | of a \\\\credential\\\\ file\",\"description\":\"Password hash" \
	"es\",\"category\":\"file_write\",\"ruleset\":\"vigil-detections\"}" \
	",\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":" \
	"[\"T1003.008\",\"T1552.001\"]}},\"host\":{\"name\":\"node-1\"},\"p" \
	"rocess\":{\"pid\":77,\"thread\":{\"id\":77},\"name\":\"cat\",\"exe" \
	"cutable\":\"/usr/bin/cat\",\"parent\":{\"pid\":100}},\"user\":{\"i" \
	"d\":\"1000\",\"group\":{\"id\":\"0\"},\"effective\":{\"id\":\"0\"}" \
	"},\"file\":{\"path\":\"/etc/shadow\"},\"service\":{\"name\":\"cron" \
	".service\"},\"vigil\":{\"alert\":{\"id\":\"180beefb09b3152c\",\"so" \
	"urce\":\"detection\",\"kind\":\"rule\",\"level\":\"critical\",\"sc" \
	"ore\":80,\"title\":\"Read | of a \\\\credential\\\\ file\",\"expla" \
	"nation\":\"key=value | back\\\\slash\\nsecond line\\r\",\"dimensio" \
	"n\":\"file_write\",\"item\":\"/etc/shadow\",\"nearest\":[],\"actio" \
	"n_taken\":\"alerted\",\"count\":1,\"first_seen\":\"2026-11-02T00:0" \
	"0:00.000999999Z\",\"last_seen\":\"2026-11-02T00:00:00.000999999Z\"" \
	"},\"trigger\":{\"action\":\"open\"}}}"
#define GOLD_RULE_FALCO \
	"{\"hostname\":\"node-1\",\"output\":\"00:00:00.000999999: Critical k" \
	"ey=value | back\\\\slash\\nsecond line\\r (user_uid=1000 process=cat" \
	" proc_exepath=/usr/bin/cat file=/etc/shadow service=cron.service rul" \
	"e_id=credential-file-read)\",\"priority\":\"Critical\",\"rule\":\"Re" \
	"ad | of a \\\\credential\\\\ file\",\"source\":\"vigil\",\"tags\":[\"" \
	"vigil\",\"host\",\"filesystem\",\"T1003.008\",\"T1552.001\"],\"time\"" \
	":\"2026-11-02T00:00:00.000999999Z\",\"output_fields\":{\"container.f" \
	"ull_id\":\"host\",\"container.id\":\"host\",\"container.image.reposi" \
	"tory\":null,\"container.image.tag\":null,\"container.name\":\"host\"" \
	",\"evt.time\":1793577600000999999,\"fd.name\":\"/etc/shadow\",\"fd.s" \
	"ip\":null,\"fd.sport\":null,\"k8s.ns.name\":null,\"k8s.pod.name\":nu" \
	"ll,\"proc.cmdline\":null,\"proc.exepath\":\"/usr/bin/cat\",\"proc.na" \
	"me\":\"cat\",\"proc.pexepath\":null,\"proc.pid\":77,\"proc.ppid\":10" \
	"0,\"user.uid\":1000,\"vigil.alert.dimension\":\"file_write\",\"vigil" \
	".alert.id\":\"180beefb09b3152c\",\"vigil.alert.item\":\"/etc/shadow\"" \
	",\"vigil.alert.kind\":\"rule\",\"vigil.alert.level\":\"critical\",\"" \
	"vigil.alert.score\":80,\"vigil.alert.source\":\"detection\",\"vigil." \
	"model.key\":null,\"vigil.rule.id\":\"credential-file-read\",\"vigil." \
	"service\":\"cron.service\"}}"
#define GOLD_RULE_OCSF \
	"{\"activity_id\":1,\"activity_name\":\"Create\",\"category_uid\":2,\"" \
	"category_name\":\"Findings\",\"class_uid\":2004,\"class_name\":\"Det" \
	"ection Finding\",\"type_uid\":200401,\"type_name\":\"Detection Findi" \
	"ng: Create\",\"severity_id\":5,\"severity\":\"Critical\",\"status_id" \
	"\":1,\"status\":\"New\",\"time\":1793577600000,\"message\":\"key=val" \
	"ue | back\\\\slash\\nsecond line\\r\",\"risk_score\":80,\"metadata\"" \
	":{\"uid\":\"180beefb09b3152c\",\"version\":\"1.1.0\",\"product\":{\"" \
	"name\":\"Vigil\",\"vendor_name\":\"Vigil\",\"version\":\"0.1.0\"}},\"" \
	"finding_info\":{\"uid\":\"180beefb09b3152c\",\"title\":\"Read | of a" \
	" \\\\credential\\\\ file\",\"desc\":\"key=value | back\\\\slash\\nse" \
	"cond line\\r\",\"types\":[\"rule\",\"file_write\"],\"created_time\":" \
	"1793577600000,\"analytic\":{\"name\":\"credential-file-read\",\"type" \
	"_id\":1,\"type\":\"Rule\",\"uid\":\"credential-file-read\"}},\"devic" \
	"e\":{\"hostname\":\"node-1\",\"type_id\":0,\"type\":\"Unknown\"},\"r" \
	"esources\":[{\"uid\":\"cron.service\",\"name\":\"cron.service\",\"ty" \
	"pe\":\"service\"}],\"evidences\":[{\"process\":{\"pid\":77,\"name\":" \
	"\"cat\",\"file\":{\"name\":\"cat\",\"path\":\"/usr/bin/cat\",\"type_" \
	"id\":1,\"type\":\"Regular File\"},\"parent_process\":{\"pid\":100},\"" \
	"user\":{\"uid\":\"1000\"}},\"file\":{\"name\":\"shadow\",\"path\":\"" \
	"/etc/shadow\",\"type_id\":1,\"type\":\"Regular File\"}}],\"unmapped\"" \
	":{\"vigil\":{\"kind\":\"rule\",\"dimension\":\"file_write\",\"item\"" \
	":\"/etc/shadow\",\"level\":\"critical\",\"source\":\"detection\",\"r" \
	"ule_id\":\"credential-file-read\",\"tags\":[\"vigil\",\"host\",\"fil" \
	"esystem\",\"T1003.008\",\"T1552.001\"]}}}"
#define GOLD_RULE_CEF \
	"CEF:0|Vigil|Vigil|0.1.0|credential-file-read|Read \\| of a \\\\crede" \
	"ntial\\\\ file|9|rt=1793577600000 dvchost=node-1 externalId=180beefb" \
	"09b3152c cat=file_write act=alerted cn1=80 cn1Label=score suid=1000 " \
	"spid=77 sproc=cat filePath=/etc/shadow fname=shadow cs5=/etc/shadow " \
	"cs5Label=vigilItem cs6=cron.service cs6Label=serviceName msg=key\\=v" \
	"alue | back\\\\slash\\nsecond line\\r"
#define GOLD_SILENT_FALCO \
	"{\"hostname\":\"node-1\",\"output\":\"00:00:00.000000000: Warning we" \
	"ekly job missing (model=service:cron.service)\",\"priority\":\"Warni" \
	"ng\",\"rule\":\"Expected periodic activity did not happen\",\"source" \
	"\":\"vigil\",\"tags\":[\"vigil\",\"host\",\"process\"],\"time\":\"20" \
	"26-11-09T00:00:00.000000000Z\",\"output_fields\":{\"container.full_i" \
	"d\":\"host\",\"container.id\":\"host\",\"container.image.repository\"" \
	":null,\"container.image.tag\":null,\"container.name\":\"host\",\"evt" \
	".time\":1794182400000000000,\"fd.name\":null,\"fd.sip\":null,\"fd.sp" \
	"ort\":null,\"k8s.ns.name\":null,\"k8s.pod.name\":null,\"proc.cmdline" \
	"\":null,\"proc.exepath\":null,\"proc.name\":null,\"proc.pexepath\":n" \
	"ull,\"proc.pid\":null,\"proc.ppid\":null,\"user.uid\":null,\"vigil.a" \
	"lert.dimension\":\"process\",\"vigil.alert.id\":\"e8606b28d3caaa8a\"" \
	",\"vigil.alert.item\":\"/usr/local/bin/backup.sh <- /usr/sbin/cron\"" \
	",\"vigil.alert.kind\":\"silent\",\"vigil.alert.level\":\"medium\",\"" \
	"vigil.alert.score\":40,\"vigil.alert.source\":\"model\",\"vigil.mode" \
	"l.key\":\"service:cron.service\",\"vigil.rule.id\":null,\"vigil.serv" \
	"ice\":null}}"
#define GOLD_SILENT_OCSF \
	"{\"activity_id\":1,\"activity_name\":\"Create\",\"category_uid\":2,\"" \
	"category_name\":\"Findings\",\"class_uid\":2004,\"class_name\":\"Det" \
	"ection Finding\",\"type_uid\":200401,\"type_name\":\"Detection Findi" \
	"ng: Create\",\"severity_id\":3,\"severity\":\"Medium\",\"status_id\"" \
	":1,\"status\":\"New\",\"time\":1794182400000,\"message\":\"weekly jo" \
	"b missing\",\"risk_score\":40,\"metadata\":{\"uid\":\"e8606b28d3caaa" \
	"8a\",\"version\":\"1.1.0\",\"product\":{\"name\":\"Vigil\",\"vendor_" \
	"name\":\"Vigil\",\"version\":\"0.1.0\"}},\"finding_info\":{\"uid\":\"" \
	"e8606b28d3caaa8a\",\"title\":\"Expected periodic activity did not ha" \
	"ppen\",\"desc\":\"weekly job missing\",\"types\":[\"silent\",\"proce" \
	"ss\"],\"created_time\":1794182400000,\"analytic\":{\"name\":\"vigil-" \
	"model\",\"type_id\":2,\"type\":\"Behavioral\",\"uid\":\"service:cron" \
	".service\"}},\"device\":{\"hostname\":\"node-1\",\"type_id\":0,\"typ" \
	"e\":\"Unknown\"},\"resources\":[{\"uid\":\"node-1\",\"name\":\"node-" \
	"1\",\"type\":\"host\"}],\"unmapped\":{\"vigil\":{\"kind\":\"silent\"" \
	",\"dimension\":\"process\",\"item\":\"/usr/local/bin/backup.sh <- /u" \
	"sr/sbin/cron\",\"level\":\"medium\",\"source\":\"model\",\"model\":\"" \
	"service:cron.service\",\"tags\":[\"vigil\",\"host\",\"process\"]}}}"
#define GOLD_SILENT_CEF \
	"CEF:0|Vigil|Vigil|0.1.0|silent:process|Expected periodic activity di" \
	"d not happen|5|rt=1794182400000 dvchost=node-1 externalId=e8606b28d3" \
	"caaa8a cat=process act=alerted cn1=40 cn1Label=score cs4=service:cro" \
	"n.service cs4Label=vigilModel cs5=/usr/local/bin/backup.sh <- /usr/s" \
	"bin/cron cs5Label=vigilItem msg=weekly job missing"
#define GOLD_SILENT_SYSLOG \
	"<132>1 2026-11-09T00:00:00.000000Z node-1 vigil 777 alert - {\"m\":1" \
	"}"
#define GOLD_CONNECT_FALCO \
	"{\"hostname\":\"node-1\",\"output\":\"00:00:00.000000000: Notice new" \
	" net_out (user_uid=0 process=curl connection=203.0.113.9:4444 contai" \
	"ner_id=web1 container_name=web1 model=container:web1)\",\"priority\"" \
	":\"Notice\",\"rule\":\"Behaviour outside the learned model\",\"sourc" \
	"e\":\"vigil\",\"tags\":[\"vigil\",\"container\",\"network\",\"mitre_" \
	"command_and_control\",\"TA0011\"],\"time\":\"2026-11-02T00:00:00.000" \
	"000000Z\",\"output_fields\":{\"container.full_id\":\"web1\",\"contai" \
	"ner.id\":\"web1\",\"container.image.repository\":null,\"container.im" \
	"age.tag\":null,\"container.name\":\"web1\",\"evt.time\":179357760000" \
	"0000000,\"fd.name\":null,\"fd.sip\":\"203.0.113.9\",\"fd.sport\":444" \
	"4,\"k8s.ns.name\":null,\"k8s.pod.name\":null,\"proc.cmdline\":null,\"" \
	"proc.exepath\":null,\"proc.name\":\"curl\",\"proc.pexepath\":null,\"" \
	"proc.pid\":4300,\"proc.ppid\":100,\"user.uid\":0,\"vigil.alert.dimen" \
	"sion\":\"net_out\",\"vigil.alert.id\":\"f82521e8249ae3ca\",\"vigil.a" \
	"lert.item\":\"tcp 203.0.113.0/24:4444\",\"vigil.alert.kind\":\"new_i" \
	"tem\",\"vigil.alert.level\":\"low\",\"vigil.alert.score\":29,\"vigil" \
	".alert.source\":\"model\",\"vigil.model.key\":\"container:web1\",\"v" \
	"igil.rule.id\":null,\"vigil.service\":null}}"
#define GOLD_CONNECT_CEF \
	"CEF:0|Vigil|Vigil|0.1.0|new_item:net_out|Behaviour outside the learn" \
	"ed model|2|rt=1793577600000 dvchost=node-1 externalId=f82521e8249ae3" \
	"ca cat=net_out act=alerted cn1=29 cn1Label=score suid=0 spid=4300 sp" \
	"roc=curl dst=203.0.113.9 dpt=4444 cs1=web1 cs1Label=containerId cs2=" \
	"web1 cs2Label=containerName cs4=container:web1 cs4Label=vigilModel c" \
	"s5=tcp 203.0.113.0/24:4444 cs5Label=vigilItem msg=new net_out"
