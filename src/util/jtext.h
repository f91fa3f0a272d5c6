/* jtext.h: JSON text written straight into a growing buffer.
 *
 * For the few bodies made on hot paths (a notice per warning, breach and
 * escalation, built inside the scheduler's transaction), where building a
 * jansson tree to dump it cost ten times the text.  The output is what
 * json_dumps(..., JSON_COMPACT) writes for the same values in the same
 * order (tests/unit/test_notify_pure.c compares them), so readers see no
 * difference.  Everything else keeps jansson.
 *
 *     struct jtext t = {0};
 *     jt_lit(&t, "{");
 *     jt_key(&t, "id");
 *     jt_str(&t, id);
 *     jt_lit(&t, "}");
 *     char *s = jt_take(&t);      // malloc'd, NUL-terminated
 */
#ifndef SW_UTIL_JTEXT_H
#define SW_UTIL_JTEXT_H

#include <stddef.h>
#include <stdint.h>

struct jtext {
    char *p;
    size_t n, cap;
};

/* s as it is (punctuation, literals). */
void jt_lit(struct jtext *t, const char *s);
/* "key": after a comma unless it opens its object. */
void jt_key(struct jtext *t, const char *key);
/* A JSON string as jansson escapes it (", \, \b \f \n \r \t, other
 * controls \u00XX, the rest as is); NULL is null.  Text that is not valid
 * UTF-8 (a name cut in the middle of a character) ends before the first
 * invalid byte: the output stays valid JSON. */
void jt_str(struct jtext *t, const char *s);
void jt_int(struct jtext *t, int64_t v);
/* The text (malloc'd, NUL-terminated); t is empty again. */
char *jt_take(struct jtext *t);

#endif
