/*
 * libFuzzer target for the question-sheet reader. The bytes go to
 * kt_qsheet_read three times: as a CSV file (header search, every column,
 * keys, levels, codes and the item checks), as a whole .xlsx (archive and
 * parts), and as the worksheet of a well-formed .xlsx built around them, so
 * that mutations of inline strings reach the rows instead of stopping at
 * the zip's checksums. It must read or refuse, never crash, leak or read
 * out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <zip.h>

#include "qsheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored (uncompressed) .xlsx with data as xl/worksheets/sheet1.xml. */
static void *
wrap(const uint8_t *data, size_t size, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    void *buf = NULL;
    if (!src)
        return NULL;
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    if (za) {
        zip_source_t *s = zip_source_buffer(za, data, size, 0);
        zip_int64_t idx = s ? zip_file_add(za, "xl/worksheets/sheet1.xml", s, 0) : -1;
        if (idx >= 0)
            zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        else
            zip_source_free(s);
        if (zip_close(za) != 0)
            zip_discard(za);
    }
    if (zip_source_open(src) == 0) {
        zip_source_seek(src, 0, SEEK_END);
        zip_int64_t n = zip_source_tell(src);
        zip_source_seek(src, 0, SEEK_SET);
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf && n > 0 && zip_source_read(src, buf, (zip_uint64_t)n) == n) {
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
        zip_source_close(src);
    }
    zip_source_free(src);
    zip_error_fini(&ze);
    return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kt_docx_result r;
    size_t len = 0;

    kt_qsheet_read(data, size, KT_QSHEET_CSV, &r);
    kt_docx_result_free(&r);
    kt_qsheet_read(data, size, KT_QSHEET_XLSX, &r);
    kt_docx_result_free(&r);
    if (size == 0 || data[0] != '<')
        return 0; /* not a worksheet */
    void *buf = wrap(data, size, &len);
    if (buf) {
        kt_qsheet_read(buf, len, KT_QSHEET_XLSX, &r);
        kt_docx_result_free(&r);
        free(buf);
    }
    return 0;
}
