/* Escalation chains: names, validation, and when the next step fires.
 * Pure arithmetic on the caller's structs (see sla.h). */
#include "core/sla.h"

#include <string.h>

#include "util/err.h"

static const char *const level_names[SLA_ESC_LEVEL_COUNT] = {
    "L1", "L2", "L3", "Manager", "CISO",
};

static const char *const method_names[SLA_ESC_METHOD_COUNT] = {
    "email", "slack", "pager", "phone",
};

const char *sla_esc_level_name(enum sla_esc_level l)
{
    return (unsigned)l < SLA_ESC_LEVEL_COUNT ? level_names[l] : NULL;
}

int sla_esc_level_parse(const char *s, enum sla_esc_level *out)
{
    for (int i = 0; s && i < SLA_ESC_LEVEL_COUNT; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum sla_esc_level)i;
            return 0;
        }
    return SW_E_INVAL;
}

const char *sla_esc_method_name(enum sla_esc_method m)
{
    return (unsigned)m < SLA_ESC_METHOD_COUNT ? method_names[m] : NULL;
}

int sla_esc_method_parse(const char *s, enum sla_esc_method *out)
{
    for (int i = 0; s && i < SLA_ESC_METHOD_COUNT; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (enum sla_esc_method)i;
            return 0;
        }
    return SW_E_INVAL;
}

static int bad(size_t i, const char *field, size_t *bad_index, const char **bad_field)
{
    if (bad_index)
        *bad_index = i;
    if (bad_field)
        *bad_field = field;
    return SW_E_INVAL;
}

int sla_esc_chain_validate(const struct sla_esc_step *s, size_t n, size_t *bad_index,
                           const char **bad_field)
{
    if (n < 1 || n > SLA_ESC_STEPS_MAX || !s)
        return bad(n, "chain", bad_index, bad_field);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)s[i].level >= SLA_ESC_LEVEL_COUNT)
            return bad(i, "level", bad_index, bad_field);
        if (!s[i].role || !s[i].role[0])
            return bad(i, "role", bad_index, bad_field);
        if (s[i].timeout_min < SLA_ESC_TIMEOUT_MIN_MIN ||
            s[i].timeout_min > SLA_ESC_TIMEOUT_MIN_MAX)
            return bad(i, "timeout_minutes", bad_index, bad_field);
        if ((unsigned)s[i].method >= SLA_ESC_METHOD_COUNT)
            return bad(i, "notification_method", bad_index, bad_field);
    }
    return 0;
}

sla_ms sla_esc_next_at(const struct sla_esc_step *chain, size_t n,
                       const struct sla_esc_state *st, const struct sla_clock *ack, sla_ms now)
{
    if (!chain || !st || !ack || st->level < 0 || (size_t)st->level >= n ||
        sla_clock_is_stopped(ack))
        return SLA_NEVER;
    if (st->level == 0) {
        if (sla_clock_is_paused(ack))
            return SLA_NEVER;
        sla_ms due = sla_clock_due(ack, now);
        return due == SLA_NEVER ? SLA_NEVER : due + 1;
    }
    if (st->escalated_at <= 0)
        return SLA_NEVER;
    return st->escalated_at + (sla_ms)chain[st->level - 1].timeout_min * SLA_MS_PER_MIN;
}

int sla_esc_auto_step(const struct sla_esc_step *chain, size_t n, struct sla_esc_state *st,
                      const struct sla_clock *ack, sla_ms now, size_t *fired, sla_ms *due_at)
{
    sla_ms at = sla_esc_next_at(chain, n, st, ack, now);
    if (at == SLA_NEVER || at > now)
        return 0;
    if (fired)
        *fired = (size_t)st->level;
    if (due_at)
        *due_at = at;
    st->level++;
    st->escalated_at = at;
    return 1;
}

int sla_esc_manual_step(const struct sla_esc_step *chain, size_t n, struct sla_esc_state *st,
                        sla_ms now, size_t *fired)
{
    if (!chain || n == 0 || st->level < 0 || (size_t)st->level >= n)
        return SW_E_EXHAUSTED;
    if (fired)
        *fired = (size_t)st->level;
    st->level++;
    st->escalated_at = now;
    return 0;
}
