/*
 * The at-rest encryption key (see secret.h): 32 bytes from a 0600 file
 * outside the database, so a database dump alone never reveals a số định
 * danh. The key is loaded before the workers start and only read after.
 * A key file that group or others may read is refused: the server does not
 * start until it is made private.
 */
#include "secret.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"

static unsigned char secret_key[crypto_secretbox_KEYBYTES];
static int have_key;

int
kt_secret_load(void)
{
    if (!kt_cfg.secret_key_file || !*kt_cfg.secret_key_file)
        return 0;
    FILE *f = fopen(kt_cfg.secret_key_file, "r");
    if (!f) {
        log_info("no secret key at %s: national identifiers cannot be stored",
                 kt_cfg.secret_key_file);
        return 0;
    }
    struct stat st = {0};
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
        log_error("KIEMTRA_SECRET_KEY_FILE %s may be read by other users (mode %03o): the key"
                  " that protects the số định danh must be private; run chmod 600 %s",
                  kt_cfg.secret_key_file, (unsigned)(st.st_mode & 0777), kt_cfg.secret_key_file);
        fclose(f);
        return -1;
    }
    char hex[2 * crypto_secretbox_KEYBYTES + 2] = "";
    size_t n = fread(hex, 1, sizeof(hex) - 1, f);
    fclose(f);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        hex[--n] = '\0';
    size_t bin = 0;
    if (n != 2 * (size_t)crypto_secretbox_KEYBYTES ||
        sodium_hex2bin(secret_key, sizeof(secret_key), hex, n, NULL, &bin, NULL) != 0 ||
        bin != sizeof(secret_key)) {
        log_error("%s: the secret key must be %d hex digits", kt_cfg.secret_key_file,
                  2 * crypto_secretbox_KEYBYTES);
        sodium_memzero(hex, sizeof(hex));
        return -1;
    }
    sodium_memzero(hex, sizeof(hex));
    mlock(secret_key, sizeof(secret_key));
    have_key = 1;
    return 0;
}

int
kt_secret_key(unsigned char key[crypto_secretbox_KEYBYTES])
{
    if (!have_key)
        return -1;
    memcpy(key, secret_key, sizeof(secret_key));
    return 0;
}
