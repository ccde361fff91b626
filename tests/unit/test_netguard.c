/* test_netguard.c - pins the enforcement map ABI (bpf/enforce_event.h: the
 * kernel and user space must agree byte for byte; the prefix header length
 * is what the LPM key's prefixlen counts past) and checks
 * netguard_prefix_norm(): validation, masking past the prefix length, and
 * IPv4-mapped IPv6 prefixes turned into the IPv4 ones the kernel matches. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "harness.h"
#include "enforce/netguard.h"

static struct netguard_prefix_rule rule(int family, const char *addr, int plen)
{
	struct netguard_prefix_rule p;

	memset(&p, 0, sizeof(p));
	p.family = (uint8_t)family;
	p.plen = (uint8_t)plen;
	p.verdict = VGE_VERDICT_DENY;
	inet_pton(family == 2 ? AF_INET : AF_INET6, addr, p.addr);
	return p;
}

/* the normalized address as text, in the normalized family */
static const char *addr_of(const struct netguard_prefix_rule *p)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(p->family == 2 ? AF_INET : AF_INET6, p->addr, buf,
			 sizeof(buf));
}

static void abi(void)
{
	CHECK_INT(VGE_ABI_VERSION, 2);
	CHECK_INT(sizeof(struct vge_cgroup), 8);
	CHECK_INT(offsetof(struct vge_cgroup, gen), 3);
	CHECK_INT(offsetof(struct vge_cgroup, flags), 4);
	CHECK_INT(sizeof(struct vge_port_key), 16);
	CHECK_INT(offsetof(struct vge_port_key, port), 8);
	CHECK_INT(offsetof(struct vge_port_key, proto), 10);
	CHECK_INT(offsetof(struct vge_port_key, gen), 11);
	CHECK_INT(sizeof(struct vge_prefix_key), 32);
	CHECK_INT(offsetof(struct vge_prefix_key, cgroup_id), 4);
	CHECK_INT(offsetof(struct vge_prefix_key, gen), 12);
	CHECK_INT(offsetof(struct vge_prefix_key, family), 13);
	CHECK_INT(offsetof(struct vge_prefix_key, addr), 14);
	/* prefixlen counts bits from the start of the data (offset 4) */
	CHECK_INT(VGE_PREFIX_HDR_BITS,
		  (offsetof(struct vge_prefix_key, addr) - 4) * 8);
	CHECK_INT(sizeof(struct vge_prefix_entry), 4);
	CHECK_INT(sizeof(struct vge_prefix_val), 4 * VGE_PREFIX_ENTRIES);
	CHECK_INT(sizeof(struct vge_decision), 64);
	CHECK_INT(offsetof(struct vge_decision, reason), 7);
	CHECK_INT(offsetof(struct vge_decision, family), 8);
	/* verdicts are bits the kernel ORs */
	CHECK_INT(VGE_VERDICT_ALLOW & VGE_VERDICT_DENY, 0);
}

static void norm_ipv4(void)
{
	struct netguard_prefix_rule p;

	p = rule(2, "10.1.2.3", 8);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_STR(addr_of(&p), "10.0.0.0");
	CHECK_INT(p.plen, 8);
	p = rule(2, "10.255.255.255", 13);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_STR(addr_of(&p), "10.248.0.0");
	p = rule(2, "192.168.1.77", 32);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_STR(addr_of(&p), "192.168.1.77");
	p = rule(2, "192.168.1.77", 0);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_STR(addr_of(&p), "0.0.0.0");
	/* bytes past the 4 of IPv4 are cleared whatever the caller left */
	p = rule(2, "1.2.3.4", 32);
	p.addr[9] = 0x55;
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.addr[9], 0);
	p = rule(2, "1.2.3.4", 33);
	CHECK_INT(netguard_prefix_norm(&p), -EINVAL);
}

static void norm_ipv6(void)
{
	struct netguard_prefix_rule p;

	p = rule(10, "2001:db8:ffff::1", 32);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.family, 10);
	CHECK_STR(addr_of(&p), "2001:db8::");
	p = rule(10, "::1", 128);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_STR(addr_of(&p), "::1");
	p = rule(10, "fd00::1", 129);
	CHECK_INT(netguard_prefix_norm(&p), -EINVAL);

	/* IPv4-mapped: the kernel looks mapped destinations up as IPv4 */
	p = rule(10, "::ffff:10.1.2.3", 104);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.family, 2);
	CHECK_INT(p.plen, 8);
	CHECK_STR(addr_of(&p), "10.0.0.0");
	p = rule(10, "::ffff:127.0.0.1", 128);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.family, 2);
	CHECK_INT(p.plen, 32);
	CHECK_STR(addr_of(&p), "127.0.0.1");
	p = rule(10, "::ffff:0.0.0.0", 96);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.family, 2);
	CHECK_INT(p.plen, 0);
	/* shorter than /96 is a real IPv6 prefix (covers more than mapped) */
	p = rule(10, "::ffff:0.0.0.0", 80);
	CHECK_INT(netguard_prefix_norm(&p), 0);
	CHECK_INT(p.family, 10);
	CHECK_STR(addr_of(&p), "::");
}

static void norm_invalid(void)
{
	struct netguard_prefix_rule p;

	p = rule(2, "1.2.3.4", 32);
	p.family = 3;
	CHECK_INT(netguard_prefix_norm(&p), -EINVAL);
	p = rule(2, "1.2.3.4", 32);
	p.verdict = 0;
	CHECK_INT(netguard_prefix_norm(&p), -EINVAL);
	p = rule(2, "1.2.3.4", 32);
	p.verdict = VGE_VERDICT_ALLOW | VGE_VERDICT_DENY;
	CHECK_INT(netguard_prefix_norm(&p), -EINVAL);
	CHECK_INT(netguard_prefix_norm(NULL), -EINVAL);
	CHECK_INT(netguard_set_rules(NULL, 42, VGE_MODE_PROTECT, NULL), -EINVAL);
}

int main(void)
{
	abi();
	norm_ipv4();
	norm_ipv6();
	norm_invalid();
	return h_finish("test_netguard");
}
