/* Annotated cases written for this project: SQL, digests, TLS and temporary names in C. */
#include <stdio.h>
#include <stdlib.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

void find_user(sqlite3 *db, const char *name) {
    char q[256];
    snprintf(q, sizeof q, "SELECT id FROM users WHERE name = '%s'", name);
    /* ruleid: c-sql-built-string */
    sqlite3_exec(db, q, NULL, NULL, NULL);
}

void find_user_bound(sqlite3 *db, const char *name) {
    sqlite3_stmt *st;
    /* ok: c-sql-built-string */
    sqlite3_prepare_v2(db, "SELECT id FROM users WHERE name = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
}

void fingerprint(const unsigned char *data, size_t len, unsigned char *out) {
    /* ruleid: c-weak-crypto */
    MD5(data, len, out);
    /* ok: c-weak-crypto */
    SHA256(data, len, out);
}

void tls_setup(SSL_CTX *ctx) {
    /* ruleid: c-tls-verification-disabled */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* ok: c-tls-verification-disabled */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

FILE *scratch(void) {
    /* ruleid: c-insecure-temp-file */
    char *name = tmpnam(NULL);
    char tmpl[] = "/tmp/scratch-XXXXXX";
    /* ok: c-insecure-temp-file */
    int fd = mkstemp(tmpl);
    return name ? fdopen(fd, "w+") : NULL;
}
