/*
 * ds killed CAMPAIGN_KILLS times at random instants while a self-checking
 * workload runs (ds.kill_campaign; the figures are in docs/DS.md).
 *
 * The killer is rs itself (root_chaos, as `service chaos ds 200 20 200`): it
 * kills ds 20 to 200 ms after each instance said it was ready, from its own
 * alarm, so a kill lands wherever ds is, in the middle of a request too (a
 * killer process below ds, as this test had before, always found ds idle in
 * its receive). Meanwhile the test writes, overwrites and deletes CAMPAIGN_KEYS keys with
 * values it can recompute (numbers and long values in blob slots, each made
 * from its key and a sequence number) and reads them back through the
 * client stubs, which find a restarted ds by themselves (lib/sys/ds.c). A
 * value read back must be the last one written; a request that failed may
 * or may not have been done (ds may have died after its commit), so until
 * the next read either value counts. Lost: a key read back as absent that
 * must be there; corrupt: any other value. Both must stay 0; errors (calls
 * that failed) are counted and printed, with rs's recovery times for ds.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "format/format.h"
#include "sys.h"
#include "test/test.h"
#include "dstest.h"

#define CAMPAIGN_KILLS 200
#define CAMPAIGN_MAX_MS 50000 /* the campaign is stopped here even short of its kills */
#define CAMPAIGN_MIN_GAP 20   /* ms between an instance's ready and its kill: at least */
#define CAMPAIGN_MAX_GAP 200  /* and at most */
#define CAMPAIGN_KEYS 12      /* even: a number; odd: a long value */
#define LONG_MIN_LEN 100

/* What a key must hold: certainly seq (0: absent); after one failed request seq or alt; after
 * two in a row any value of the key's own (a failed request may or may not have been done). */
enum { SURE, EITHER, ANY_OWN };

struct expect {
    uint64_t seq, alt;
    int state;
};

static struct expect model[CAMPAIGN_KEYS];
static uint8_t value[DS_BLOB_MAX], got[DS_BLOB_MAX];
static uint64_t lost, corrupt, errors, deaths_seen, timeouts, deletes_gone;

static void key_of(char *key, int k)
{
    snprintf_s(key, DS_KEY_MAX, "dstest.cw.%d", k);
}

/* Key k's long value number seq into value (seq in its first 8 bytes): its length. */
static uint32_t make(int k, uint64_t seq)
{
    uint32_t len = LONG_MIN_LEN + (uint32_t)(seq * 37 % (DS_BLOB_MAX - LONG_MIN_LEN));
    memcpy(value, &seq, sizeof(seq));
    for (uint32_t i = sizeof(seq); i < len; i++)
        value[i] = (uint8_t)(seq * 131 + (uint64_t)k * 17 + i);
    return len;
}

static void failed(int r, struct expect *e, uint64_t maybe)
{
    errors++;
    deaths_seen += r == -E_DEADEP;
    timeouts += r == -E_TIMEDOUT;
    *e = e->state == SURE ? (struct expect){e->seq, maybe, EITHER} : (struct expect){0, 0, ANY_OWN};
}

static void write_key(int k, uint64_t seq)
{
    char key[DS_KEY_MAX];
    key_of(key, k);
    int r = k % 2 ? ds_publish_blob(key, value, make(k, seq), DS_OVERWRITE)
                  : ds_publish_u64(key, (uint64_t)k << 32 | seq, DS_OVERWRITE);
    if (r == 0)
        model[k] = (struct expect){seq, 0, SURE};
    else
        failed(r, &model[k], seq);
}

static void delete_key(int k)
{
    char key[DS_KEY_MAX];
    key_of(key, k);
    int r = ds_delete(key);
    struct expect *e = &model[k];
    if (r == -E_SRCH && (e->seq || e->state != SURE))
        deletes_gone++; /* sent again after ds's death (the stubs do), done the first time */
    if (r == 0 || r == -E_SRCH)
        *e = (struct expect){0, 0, SURE};
    else
        failed(r, e, 0);
}

/* The value number a retrieve of key k found (r: its result), 0 if absent; -1 if it is no
 * value this test wrote there. */
static int64_t found(int k, int r, uint64_t num, uint64_t written)
{
    uint64_t seq = num & 0xffffffffu;
    if (r == -E_SRCH)
        return 0;
    if (k % 2 == 0)
        return r == 0 && num >> 32 == (uint64_t)k && seq && seq <= written ? (int64_t)seq : -1;
    if (r < (int)sizeof(seq))
        return -1;
    memcpy(&seq, got, sizeof(seq));
    if (!seq || seq > written)
        return -1;
    uint32_t len = make(k, seq);
    return r == (int)len && !memcmp(got, value, len) ? (int64_t)seq : -1;
}

static void read_key(int k, uint64_t written)
{
    char key[DS_KEY_MAX];
    uint64_t num = 0;
    key_of(key, k);
    int r = k % 2 ? ds_retrieve_blob(key, got, sizeof(got)) : ds_retrieve_u64(key, &num);
    if (r < 0 && r != -E_SRCH) {
        errors++; /* a failed read changes nothing */
        deaths_seen += r == -E_DEADEP;
        timeouts += r == -E_TIMEDOUT;
        return;
    }
    struct expect *e = &model[k];
    int64_t seq = found(k, r, num, written);
    int ok = seq >= 0 && (e->state == ANY_OWN || (uint64_t)seq == e->seq ||
                          (e->state == EITHER && (uint64_t)seq == e->alt));
    if (!ok) {
        printf("dstest: %s: %s (result %d, found %ld, expected %lu%s)\n", key,
               seq == 0 ? "lost" : "corrupt", r, seq, e->seq, e->state == EITHER ? " or alt" : "");
        lost += seq == 0;
        corrupt += seq != 0;
    }
    *e = (struct expect){seq > 0 ? (uint64_t)seq : 0, 0, seq >= 0 ? SURE : ANY_OWN};
}

void test_kill_campaign(void)
{
    struct root_stats_reply before, after;
    EXPECT(root_service(SVC_STATS, "ds", &before), 0);
    int r = root_chaos("ds", CAMPAIGN_KILLS, CAMPAIGN_MIN_GAP, CAMPAIGN_MAX_GAP);
    EXPECT(r, 0);
    if (r)
        return;
    uint64_t seed = sys_tsc() | 1, seq = 0, ops = 0, t0 = sys_uptime(), resent = ds_client_resent;
    struct root_stats_reply now = before;
    int done = 0;
    while (!done && sys_uptime() - t0 < CAMPAIGN_MAX_MS) {
        int k = (int)(rand64(&seed) % CAMPAIGN_KEYS);
        uint64_t op = rand64(&seed) % 10;
        if (op < 5)
            write_key(k, ++seq);
        else if (op == 5)
            delete_key(k);
        else
            read_key(k, seq);
        ops++;
        if (ops % 16 == 0 && root_service(SVC_STATS, "ds", &now) == 0)
            done = now.restarts - before.restarts >= CAMPAIGN_KILLS;
    }
    if (!done)
        root_chaos("ds", 0, 1, 1);          /* the rest of the campaign is called off */
    for (int k = 0; k < CAMPAIGN_KEYS; k++) /* the last word: every key read once more */
        read_key(k, seq);
    uint64_t ms = sys_uptime() - t0;
    EXPECT(root_service(SVC_STATS, "ds", &after), 0);
    uint64_t n = after.restarts - before.restarts, kills = n;
    /* this campaign's mean, from rs's running mean over all of ds's recoveries */
    uint64_t mean = n ? (after.mean_us * after.restarts - before.mean_us * before.restarts) / n : 0;
    printf("dstest: kill campaign: %lu kills of ds in %lu ms; %lu requests, %lu lost, %lu corrupt, "
           "%lu failed (%lu E_DEADEP, %lu E_TIMEDOUT), %lu sent again by the stubs, %lu deletes "
           "done twice\n",
           kills, ms, ops, lost, corrupt, errors, deaths_seen, timeouts, ds_client_resent - resent,
           deletes_gone);
    printf("dstest: kill campaign: rs restarted ds %lu times: recovery mean %lu us, max %lu us "
           "(whole boot)\n",
           n, mean, after.max_us);
    CHECK(done);
    EXPECT(kills, CAMPAIGN_KILLS);
    EXPECT(lost, 0);
    EXPECT(corrupt, 0);
    for (int k = 0; k < CAMPAIGN_KEYS; k++) { /* leave ds's table as it was */
        char key[DS_KEY_MAX];
        key_of(key, k);
        ds_delete(key);
    }
}
