/*
 * Text rules for Vietnamese input: UTF-8 validation, NFC normalisation
 * (Word and Excel produce NFD and mixed forms), and folding for matching
 * (lower case, no diacritics, đ -> d, collapsed white space).
 */
#ifndef KT_TEXT_H
#define KT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

bool kt_utf8_valid(const char *s, size_t len);

/* NFC form of s, trimmed of leading/trailing white space, with internal runs
 * of white space collapsed to one space. malloc'd; NULL if s is not valid UTF-8. */
char *kt_text_clean(const char *s, size_t len);

/* NFC form of s without any other change. malloc'd; NULL if invalid UTF-8. */
char *kt_nfc(const char *s, size_t len);

/* Folded key for comparisons: NFC, lower case, diacritics removed
 * ("Đ"/"đ" -> "d"), white space collapsed and trimmed. malloc'd; NULL if invalid. */
char *kt_fold(const char *s, size_t len);

/* Copies at most n-1 bytes of src without splitting a UTF-8 sequence;
 * true when it had to cut. */
bool kt_copy_utf8(char *dst, size_t n, const char *src);

/* strdup that aborts when memory is exhausted, as the parsers' allocations
 * do; NULL gives "". */
char *kt_xstrdup(const char *s);

#endif
