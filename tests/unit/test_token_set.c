/* test_token_set.c — sentences tokenized once into one flat array: slices agree with dsp_tokenize, lengths
 * respect max_len, and bad arguments are errors. */
#include "dissipate.h"
#include "testutil.h"

static dsp_err err;

int main(void) {
    const char *vocab_text = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\nman\nis\nplaying\n##s\nguitar\n.\n";
    dsp_vocab *v = NULL;
    CHECK_OK(dsp_vocab_from_text(&v, vocab_text, strlen(vocab_text), &err), &err);
    if (!v) return dsp_test_end("test_token_set");
    dsp_special_ids sp = dsp_vocab_special(v);

    /* Many sentences of varying length, so that the id array has to grow several times. */
    enum { N = 3000 };
    static char *text[N];
    static char buf[N][128];
    const char *words[] = {"the", "man", "is", "playing", "a", "guitar", "mans", "zebra", "."};
    unsigned long long s = 99;
    for (int i = 0; i < N; i++) {
        int n = i % 40, o = 0;
        for (int w = 0; w < n && o < 100; w++)
            o += snprintf(buf[i] + o, sizeof buf[i] - (size_t)o, "%s ", words[(int)((dsp_test_rand(&s) + 1) * 4.5f) % 9]);
        text[i] = buf[i];
    }
    const int max_len = 12;
    dsp_token_set ts;
    CHECK_OK(dsp_token_set_build(&ts, v, text, N, max_len, &err), &err);
    CHECK(ts.count == N);
    int bad = 0, ids[64];
    size_t total = 0;
    for (int i = 0; i < ts.count; i++) {
        int n = dsp_tokenize(v, text[i], max_len, ids);
        if (ts.len[i] != n || ts.offset[i] != (int)total) bad++;
        else if (memcmp(ts.ids + ts.offset[i], ids, (size_t)n * sizeof *ids) != 0) bad++;
        if (ts.len[i] < 2 || ts.len[i] > max_len || ts.ids[ts.offset[i]] != sp.cls ||
            ts.ids[ts.offset[i] + ts.len[i] - 1] != sp.sep)
            bad++;
        total += (size_t)ts.len[i];
    }
    CHECK_MSG(bad == 0, "%d sentences disagree", bad);
    CHECK(ts.total == total);
    CHECK(ts.len[0] == 2);                /* the empty sentence: [CLS] [SEP] */
    CHECK(ts.len[39] == max_len);         /* 39 words, truncated */
    dsp_token_set_free(&ts);
    CHECK(ts.ids == NULL && ts.count == 0);

    /* NULL entries read as empty sentences; an empty set is fine. */
    char *holes[2] = {NULL, buf[5]};
    CHECK_OK(dsp_token_set_build(&ts, v, holes, 2, max_len, &err), &err);
    CHECK(ts.count == 2 && ts.len[0] == 2 && ts.len[1] == dsp_tokenize(v, buf[5], max_len, ids));
    dsp_token_set_free(&ts);
    CHECK_OK(dsp_token_set_build(&ts, v, NULL, 0, max_len, &err), &err);
    CHECK(ts.count == 0 && ts.total == 0);
    dsp_token_set_free(&ts);

    CHECK_FAILS(dsp_token_set_build(&ts, v, text, N, 1, &err), &err, "max_len 1 is too small");
    CHECK_FAILS(dsp_token_set_build(&ts, NULL, text, N, 8, &err), &err, "no vocabulary");
    CHECK_FAILS(dsp_token_set_build(&ts, v, NULL, 3, 8, &err), &err, "bad sentence list");
    dsp_vocab_free(v);
    return dsp_test_end("test_token_set");
}
