/* test_data.c — corpus and STS readers: the real shared files (counts from the data README, checked against
 * `wc -l`), line handling (CRLF, blanks, trailing spaces, BOM) and malformed STS lines. */
#include "dissipate.h"
#include "testutil.h"

static dsp_err err;

static const char *write_tmp(const char *name, const char *text, char *path, size_t cap) {
    dsp_test_tmp(name, path, cap);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void test_corpus_lines(void) {
    char p1[512], p2[512];
    write_tmp("corpus_a.txt", "\xEF\xBB\xBF" "First sentence.\r\n\r\n   \n  Second, with leading space.  \t\r\nThird\n",
              p1, sizeof p1);
    write_tmp("corpus_b.txt", "caf\xC3\xA9 au lait", p2, sizeof p2); /* no final newline */
    const char *paths[2] = {p1, p2};
    dsp_corpus c;
    CHECK_OK(dsp_corpus_load(&c, paths, 2, &err), &err);
    CHECK(c.count == 4);
    if (c.count == 4) {
        CHECK(strcmp(c.text[0], "First sentence.") == 0);
        CHECK(strcmp(c.text[1], "  Second, with leading space.") == 0);
        CHECK(strcmp(c.text[2], "Third") == 0);
        CHECK(strcmp(c.text[3], "caf\xC3\xA9 au lait") == 0);
    }
    dsp_corpus_free(&c);
    CHECK(c.text == NULL && c.count == 0);

    char missing[512];
    dsp_test_tmp("no_such_corpus.txt", missing, sizeof missing);
    const char *bad[2] = {p1, missing};
    CHECK_FAILS(dsp_corpus_load(&c, bad, 2, &err), &err, "no_such_corpus.txt");
    CHECK(c.count == 0 && c.text == NULL);
    char empty[512], blank[512];
    write_tmp("corpus_empty.txt", "", empty, sizeof empty);
    write_tmp("corpus_blank.txt", "\n  \r\n\t\n", blank, sizeof blank);
    const char *e1[1] = {empty}, *e2[2] = {p1, blank};
    CHECK_FAILS(dsp_corpus_load(&c, e1, 1, &err), &err, "corpus_empty.txt: no sentences");
    CHECK_FAILS(dsp_corpus_load(&c, e2, 2, &err), &err, "corpus_blank.txt: no sentences");
    CHECK_FAILS(dsp_corpus_load(&c, e1, 0, &err), &err, "no corpus files");
    char nul[512];
    dsp_test_tmp("corpus_nul.txt", nul, sizeof nul);
    FILE *f = fopen(nul, "wb");
    if (f) {
        fwrite("ok\nbin\0ary\n", 1, 11, f);
        fclose(f);
    }
    const char *e3[1] = {nul};
    CHECK_FAILS(dsp_corpus_load(&c, e3, 1, &err), &err, "corpus_nul.txt:2: the line holds a NUL byte");
    /* invalid UTF-8 (a stray Latin-1 byte, an overlong form, a surrogate) and lines ended by CR alone: refused, not
     * tokenized with the bad bytes dropped or read as one long line */
    char latin[512], overlong[512], surrogate[512], cr[512];
    write_tmp("corpus_latin1.txt", "ok\ncaf\xE9 au lait\n", latin, sizeof latin);
    write_tmp("corpus_overlong.txt", "x\xC0\xAFy\n", overlong, sizeof overlong);
    write_tmp("corpus_surrogate.txt", "a\nb\nx\xED\xA0\x80y\n", surrogate, sizeof surrogate);
    write_tmp("corpus_cr.txt", "one\rtwo\rthree\r", cr, sizeof cr);
    const char *e5[1] = {latin}, *e6[1] = {overlong}, *e7[1] = {surrogate}, *e8[1] = {cr};
    CHECK_FAILS(dsp_corpus_load(&c, e5, 1, &err), &err, "corpus_latin1.txt:2: not valid UTF-8 (byte 0xE9 at byte 4");
    CHECK_FAILS(dsp_corpus_load(&c, e6, 1, &err), &err, "corpus_overlong.txt:1: not valid UTF-8 (byte 0xC0 at byte 2");
    CHECK_FAILS(dsp_corpus_load(&c, e7, 1, &err), &err, "corpus_surrogate.txt:3: not valid UTF-8 (byte 0xED");
    CHECK_FAILS(dsp_corpus_load(&c, e8, 1, &err), &err, "corpus_cr.txt:1: a carriage return inside the line");
    CHECK(c.count == 0 && c.text == NULL);
    const char *e4[1] = {getenv("DSP_TMP_DIR") ? getenv("DSP_TMP_DIR") : "/tmp"};
    CHECK_FAILS(dsp_corpus_load(&c, e4, 1, &err), &err, "is a directory");
}

static void sts_rejects(const char *name, const char *text, const char *needle) {
    char path[512];
    write_tmp(name, text, path, sizeof path);
    dsp_sts s;
    CHECK_FAILS(dsp_sts_load(&s, path, &err), &err, needle);
    CHECK(s.count == 0 && s.gold == NULL);
}

static void test_sts_lines(void) {
    char path[512];
    write_tmp("sts_ok.tsv", "5.000\tA man.\tA man!\r\n\n0\tx\t y\n2.5e0\t\"quoted\"\t'single'\n", path, sizeof path);
    dsp_sts s;
    CHECK_OK(dsp_sts_load(&s, path, &err), &err);
    CHECK(s.count == 3);
    if (s.count == 3) {
        CHECK(s.gold[0] == 5.0f && strcmp(s.s1[0], "A man.") == 0 && strcmp(s.s2[0], "A man!") == 0);
        CHECK(s.gold[1] == 0.0f && strcmp(s.s1[1], "x") == 0 && strcmp(s.s2[1], " y") == 0);
        CHECK(s.gold[2] == 2.5f && strcmp(s.s1[2], "\"quoted\"") == 0 && strcmp(s.s2[2], "'single'") == 0);
    }
    dsp_sts_free(&s);

    sts_rejects("sts_2f.tsv", "1.0\ta\tb\n2.0\tonly two\n", "sts_2f.tsv:2: expected 3 tab-separated fields (score, sentence1, sentence2), found 2");
    sts_rejects("sts_4f.tsv", "1.0\ta\tb\tc\n", "sts_4f.tsv:1: expected 3 tab-separated fields (score, sentence1, sentence2), found 4");
    sts_rejects("sts_1f.tsv", "\n\n1.0 a b\n", "sts_1f.tsv:3: expected 3 tab-separated fields");
    sts_rejects("sts_word.tsv", "high\ta\tb\n", "sts_word.tsv:1: the score \"high\" is not a finite number");
    sts_rejects("sts_empty_score.tsv", "\ta\tb\n", "sts_empty_score.tsv:1: the score \"\" is not a finite number");
    sts_rejects("sts_trail.tsv", "4.0x\ta\tb\n", "the score \"4.0x\" is not a finite number");
    sts_rejects("sts_nan.tsv", "nan\ta\tb\n", "the score \"nan\" is not a finite number");
    sts_rejects("sts_inf.tsv", "inf\ta\tb\n", "the score \"inf\" is not a finite number");
    sts_rejects("sts_high.tsv", "1\ta\tb\n5.5\ta\tb\n", "sts_high.tsv:2: the score 5.5 is outside [0, 5]");
    sts_rejects("sts_low.tsv", "-0.1\ta\tb\n", "sts_low.tsv:1: the score -0.1 is outside [0, 5]");
    /* an empty sentence (a trailing tab, or only spaces) is refused, not embedded as [CLS][SEP] and scored */
    sts_rejects("sts_empty2.tsv", "4.0\tA man sits.\t\n3.0\tA dog runs.\tb\n", "sts_empty2.tsv:1: sentence 2 is empty");
    sts_rejects("sts_empty1.tsv", "4.0\ta\tb\n3.0\t \tb\n", "sts_empty1.tsv:2: sentence 1 is empty");
    sts_rejects("sts_none.tsv", "\n\n", "sts_none.tsv: no sentence pairs");
    sts_rejects("sts_latin1.tsv", "1\ta\tb\n2\tna\xEFve\tc\n", "sts_latin1.tsv:2: not valid UTF-8 (byte 0xEF at byte 5");
    sts_rejects("sts_one.tsv", "3\ta\tb\n", "sts_one.tsv: an STS set needs at least 2 pairs, it has 1");
    sts_rejects("sts_const.tsv", "2\ta\tb\n2\tc\td\n2.0\te\tf\n",
                "sts_const.tsv: every pair has the same score 2, so Spearman's correlation is undefined");
    char missing[512];
    dsp_test_tmp("no_such.tsv", missing, sizeof missing);
    CHECK_FAILS(dsp_sts_load(&s, missing, &err), &err, "cannot open");
    CHECK(strstr(err.msg, "no_such.tsv") != NULL);
}

/* Returns 1 if the shared data folder was there. */
static int test_real_files(void) {
    char dev[512], a[512], b[512], c[512];
    if (!dsp_test_data("stsb/dev.tsv", dev, sizeof dev)) return 0;
    FILE *probe = fopen(dev, "rb");
    if (!probe) return 0;
    fclose(probe);
    const char *splits[3] = {"stsb/train.tsv", "stsb/dev.tsv", "stsb/test.tsv"};
    const int pairs[3] = {5749, 1500, 1379};        /* the official STS-B sizes */
    const double mean[3] = {2.70, 2.36, 2.61};      /* from the data README */
    for (int k = 0; k < 3; k++) {
        char path[512];
        dsp_sts s;
        CHECK_OK(dsp_sts_load(&s, dsp_test_data(splits[k], path, sizeof path), &err), &err);
        CHECK_MSG(s.count == pairs[k], "%s: %d pairs", splits[k], s.count);
        double sum = 0;
        int blank = 0;
        for (int i = 0; i < s.count; i++) {
            sum += s.gold[i];
            blank += !s.s1[i][0] || !s.s2[i][0];
        }
        CHECK_NEAR(sum / (s.count ? s.count : 1), mean[k], 0.006, 0);
        CHECK(blank == 0);
        if (k == 1 && s.count > 0) {
            CHECK(s.gold[0] == 5.0f);
            CHECK(strcmp(s.s1[0], "A man with a hard hat is dancing.") == 0);
            CHECK(strcmp(s.s2[0], "A man wearing a hard hat is dancing.") == 0);
        }
        dsp_sts_free(&s);
    }
    const char *paths[3] = {dsp_test_data("corpus/wiki1m_head.txt", a, sizeof a),
                            dsp_test_data("corpus/wikisplit_complex.txt", b, sizeof b),
                            dsp_test_data("corpus/wikisplit_split.txt", c, sizeof c)};
    dsp_corpus corpus;
    CHECK_OK(dsp_corpus_load(&corpus, paths, 3, &err), &err);
    CHECK_MSG(corpus.count == 11548 + 14997 + 29958, "corpus: %d sentences", corpus.count); /* 56,503 */
    if (corpus.count == 56503) {
        CHECK(strcmp(corpus.text[0], "YMCA in South Australia") == 0); /* the first line of wiki1m */
        int bad = 0;
        for (int i = 0; i < corpus.count; i++) {
            size_t n = strlen(corpus.text[i]);
            bad += n == 0 || corpus.text[i][n - 1] == ' ' || strchr(corpus.text[i], '\n') != NULL;
        }
        CHECK(bad == 0);
    }
    dsp_corpus_free(&corpus);
    return 1;
}

int main(void) {
    test_corpus_lines();
    test_sts_lines();
    int have_data = test_real_files();
    int r = dsp_test_end("test_data");
    if (r == 0 && !have_data) {
        printf("test_data: the shared data folder is missing (DSP_DATA_DIR); the real-file checks did not run\n");
        return 77;
    }
    return r;
}
