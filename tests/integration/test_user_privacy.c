/* A tenant admin cannot learn, by creating a user, whether an email address
 * (or a user id) has an account in another tenant: the answer is the one a
 * creation gets, whether the address is new or taken by another tenant's
 * user, and the other user is untouched.  A collision with a user the
 * caller can see, or any collision for a platform_admin, is still 409.
 * docs/users.md says what stays observable until the store has invitations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char *const env_fast[] = {"SLAWATCH_PASSWORD_COST=min", NULL};

static int setup(void **state)
{
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, env_fast);
    *state = s;
    return 0;
}

static long create_user(struct sw_server *s, const char *token, const char *id,
                        const char *email, const char *tenant, struct http_resp *r)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"email\":\"%s\",\"password\":\"correct horse battery\","
             "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"%s\"}]}",
             id, email, tenant);
    return api(s, "POST", "/api/v1/users", token, body, r);
}

/* The answer's shape without what the caller chose or the clock. */
static char *shape(struct http_resp *r)
{
    json_t *j = json_deep_copy(r->json);
    json_object_del(j, "id");
    json_object_del(j, "email");
    json_object_del(j, "created_at");
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return t;
}

static void test_tenant_admin_cannot_probe_other_tenants(void **state)
{
    struct sw_server *s = *state;
    char admin_a[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_token(s, "tenant_admin", "a", admin_a, sizeof(admin_a));
    struct http_resp r;
    assert_int_equal(create_user(s, ADMIN_TOKEN, "bob", "bob@b.test", "b", &r), 201);
    http_free(&r);

    /* a new address and another tenant's address: the same answer */
    struct http_resp fresh, taken, taken_id;
    assert_int_equal(create_user(s, admin_a, "u-fresh", "fresh@b.test", "a", &fresh), 201);
    assert_int_equal(create_user(s, admin_a, "u-probe", "bob@b.test", "a", &taken), 201);
    assert_int_equal(create_user(s, admin_a, "bob", "other@a.test", "a", &taken_id), 201);
    char *a = shape(&fresh), *b = shape(&taken), *c = shape(&taken_id);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    assert_string_equal(json_string_value(json_object_get(taken.json, "email")), "bob@b.test");
    assert_string_equal(json_string_value(json_object_get(taken.json, "id")), "u-probe");
    char h1[64], h2[64];
    assert_string_equal(http_resp_header(&fresh, "Content-Type", h1, sizeof(h1)),
                        http_resp_header(&taken, "Content-Type", h2, sizeof(h2)));
    free(a);
    free(b);
    free(c);
    http_free(&fresh);
    http_free(&taken);
    http_free(&taken_id);

    /* bob is untouched: same email, only his tenant, can still log in */
    assert_int_equal(api(s, "GET", "/api/v1/users/bob", ADMIN_TOKEN, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "email")), "bob@b.test");
    json_t *roles = json_object_get(r.json, "roles");
    assert_int_equal(json_array_size(roles), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(roles, 0), "tenant_id")),
                        "b");
    http_free(&r);
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL,
                         "{\"email\":\"bob@b.test\",\"password\":\"correct horse battery\"}", NULL),
                     200);
    /* nothing was created for the probe, and tenant a gained nobody */
    assert_int_equal(api(s, "GET", "/api/v1/users/u-probe", ADMIN_TOKEN, NULL, NULL), 404);
    assert_int_equal(api(s, "GET", "/api/v1/users?tenant_id=a", admin_a, NULL, &r), 200);
    assert_null(strstr(r.body, "bob@b.test"));
    http_free(&r);

    /* the platform's audit log has the attempts, the tenant's does not */
    assert_int_equal(api(s, "GET", "/api/v1/audit?action=user.create_collision", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/audit?tenant_id=a", admin_a, NULL, &r), 200);
    assert_null(strstr(r.body, "collision"));
    http_free(&r);
}

static void test_visible_collisions_still_409(void **state)
{
    struct sw_server *s = *state;
    char admin_a[128];
    it_make_tenant(s, "a");
    it_make_tenant(s, "b");
    it_make_token(s, "tenant_admin", "a", admin_a, sizeof(admin_a));
    struct http_resp r;
    assert_int_equal(create_user(s, admin_a, "ann", "ann@a.test", "a", &r), 201);
    http_free(&r);
    /* ann is a's own: nothing to hide */
    assert_int_equal(create_user(s, admin_a, "ann2", "ann@a.test", "a", &r), 409);
    assert_error_shape(&r, "conflict", NULL);
    http_free(&r);
    assert_int_equal(create_user(s, admin_a, "ann", "ann3@a.test", "a", &r), 409);
    http_free(&r);
    /* a platform_admin sees every tenant: 409 for another tenant's address */
    assert_int_equal(create_user(s, ADMIN_TOKEN, "bob", "bob@b.test", "b", &r), 201);
    http_free(&r);
    assert_int_equal(create_user(s, ADMIN_TOKEN, "bob2", "bob@b.test", "a", &r), 409);
    http_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tenant_admin_cannot_probe_other_tenants, setup,
                                        it_server_teardown),
        cmocka_unit_test_setup_teardown(test_visible_collisions_still_409, setup,
                                        it_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
