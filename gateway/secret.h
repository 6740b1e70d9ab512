/*
 * The key that encrypts personal identifiers at rest (secretbox), read once
 * from KIEMTRA_SECRET_KEY_FILE (64 hex digits) and kept in locked memory.
 */
#ifndef KT_SECRET_H
#define KT_SECRET_H

#include <sodium.h>

/* Loads the key; a missing file is not an error (the features that need
 * the key then answer 503). -1 for a file that exists but is malformed or
 * that group or others may read. */
int kt_secret_load(void);
/* Copies the key into key; -1 when none is configured. */
int kt_secret_key(unsigned char key[crypto_secretbox_KEYBYTES]);

#endif
