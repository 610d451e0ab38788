/* fuzz_dns.c -- the DNS response parser and the "is this DNS" check.
 *
 * Input: one DNS message (a UDP payload), whole. Besides memory errors, the
 * promises of dns.h are checked: the result is an enum dns_result; a
 * message that is not DNS_OK reports no binding; every binding has af 4 or
 * 6 and a name shorter than DNS_NAME_MAX made of lower-case letters,
 * digits, '-', '_' and dots between non-empty labels; parsing with and
 * without a callback gives the same answer. */
#include <string.h>

#include "dns.h"
#include "fuzz-util.h"

struct seen {
    unsigned bindings;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= DNS_NAME_MAX || name[0] == '.' || name[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '.') {
            if (name[i + 1] == '.')
                return 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void on_binding(const char *name, int af, const uint8_t *addr, uint32_t ttl, void *ud)
{
    struct seen *s = ud;
    (void)ttl;
    FUZZ_CHECK(af == 4 || af == 6);
    FUZZ_CHECK(name != NULL && name_ok(name));
    fuzz_touch(addr, af == 4 ? 4 : 16);
    s->bindings++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {0};
    int r = dis_dns_parse_response(data, size, on_binding, &s);
    FUZZ_CHECK(r == DNS_OK || r == DNS_NOT_RESPONSE || r == DNS_TRUNCATED || r == DNS_INVALID);
    if (r != DNS_OK)
        FUZZ_CHECK(s.bindings == 0);
    FUZZ_CHECK(dis_dns_parse_response(data, size, NULL, NULL) == r);

    int dns = dis_dns_looks_like_dns(data, size);
    FUZZ_CHECK(dns == 0 || dns == 1);
    return 0;
}
