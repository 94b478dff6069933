/* test_tokenizer.c — the BERT uncased tokenizer against Hugging Face reference ids and hand-made cases.
 *
 * Reference fixtures (tests/fixtures/tokenizer/, made by tools/tokenizer-reference/make_fixture.mjs with the
 * Hugging Face JS tokenizers): every sentence must give exactly the reference ids, untruncated and truncated.
 * Hand cases use hand_vocab.txt and spell the expected pieces as tokens. */
#include "dissipate.h"
#include "testutil.h"

#include <time.h>

#define MAX_IDS 4096

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (!bigger) free(buf);
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* The source tree: DSP_SOURCE_DIR, else derived from this file's path (CMake compiles it by absolute path;
 * under Emscripten the environment of ctest does not reach the program). */
static const char *source_dir(char *buf, size_t cap) {
    const char *src = getenv("DSP_SOURCE_DIR");
    if (src) {
        snprintf(buf, cap, "%s", src);
        return buf;
    }
    snprintf(buf, cap, "%s", __FILE__);
    char *tail = strstr(buf, "tests/unit/test_tokenizer.c");
    if (tail && tail > buf) tail[-1] = 0;
    else snprintf(buf, cap, ".");
    return buf;
}

static const char *fixture(const char *name, char *buf, size_t cap) {
    char src[768];
    snprintf(buf, cap, "%s/tests/fixtures/tokenizer/%s", source_dir(src, sizeof src), name);
    return buf;
}

/* DSP_DATA_DIR/rel, else the shared data beside the source tree. */
static const char *data_file(const char *rel, char *buf, size_t cap) {
    if (dsp_test_data(rel, buf, cap)) return buf;
    char src[768];
    snprintf(buf, cap, "%s/../shared/data/%s", source_dir(src, sizeof src), rel);
    return buf;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The fixture escapes: \\ backslash, \xHH a byte, \u{H..} a code point (UTF-8). Returns bytes written. */
static size_t unescape(const char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || i + 1 >= n) { out[o++] = s[i++]; continue; }
        if (s[i + 1] == '\\') { out[o++] = '\\'; i += 2; continue; }
        if (s[i + 1] == 'x' && i + 3 < n) {
            out[o++] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
            i += 4;
            continue;
        }
        if (s[i + 1] == 'u' && i + 2 < n && s[i + 2] == '{') {
            unsigned long cp = 0;
            i += 3;
            while (i < n && s[i] != '}') cp = cp * 16 + (unsigned long)hexval(s[i++]);
            i++;
            if (cp < 0x80) out[o++] = (char)cp;
            else if (cp < 0x800) { out[o++] = (char)(0xC0 | (cp >> 6)); out[o++] = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                out[o++] = (char)(0xE0 | (cp >> 12));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (char)(0xF0 | (cp >> 18));
                out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            }
            continue;
        }
        out[o++] = s[i++];
    }
    out[o] = 0;
    return o;
}

static int same_ids(const int *a, const int *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static void print_ids(const char *what, const int *ids, int n) {
    fprintf(stderr, "  %s:", what);
    for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

/* Checks every line of a reference file; returns the number of sentences that matched in every way. */
static int check_reference(const char *vocab_name, const char *ref_name, int *total) {
    char path[1024];
    dsp_err err = {{0}};
    dsp_vocab *v = NULL;
    *total = 0;
    CHECK_OK(dsp_vocab_load(&v, fixture(vocab_name, path, sizeof path), &err), &err);
    size_t len;
    char *text = read_all(fixture(ref_name, path, sizeof path), &len);
    CHECK_MSG(text != NULL, "cannot read %s", path);
    if (!v || !text) {
        free(text);
        dsp_vocab_free(v);
        return 0;
    }
    static int want[MAX_IDS], got[MAX_IDS + 8];
    char *sentence = malloc(len + 1);
    int matched = 0, line_no = 0;
    for (char *line = text; *line; ) {
        char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        line_no++;
        char *tab = memchr(line, '\t', (size_t)(end - line));
        if (line[0] != '#' && end > line) {
            CHECK_MSG(tab != NULL, "%s:%d: no tab", ref_name, line_no);
            if (!tab) break;
            unescape(line, (size_t)(tab - line), sentence);
            int n = 0;
            for (char *p = tab + 1; p < end && n < MAX_IDS;) {
                char *q;
                long id = strtol(p, &q, 10);
                if (q == p) break;
                want[n++] = (int)id;
                p = q;
            }
            (*total)++;
            int ok = 1;
            /* Untruncated: [CLS] pieces [SEP], exactly the reference. */
            int m = dsp_tokenize(v, sentence, MAX_IDS, got);
            if (m != n || !same_ids(got, want, n)) {
                ok = 0;
                fprintf(stderr, "%s:%d: ids differ for \"%s\"\n", ref_name, line_no, sentence);
                print_ids("want", want, n);
                print_ids("got ", got, m);
            }
            /* Pieces alone, and the count when the buffer is too small (nothing written past cap). */
            int pieces = dsp_wordpiece(v, sentence, got, MAX_IDS);
            if (pieces != n - 2 || !same_ids(got, want + 1, n - 2)) ok = 0;
            for (int i = 0; i < 8; i++) got[i] = -7;
            if (dsp_wordpiece(v, sentence, got, 3) != n - 2 || got[3] != -7) ok = 0;
            if (n - 2 >= 3 && !same_ids(got, want + 1, 3)) ok = 0;
            /* Truncated as HF truncates: the first max_len - 2 pieces, then [SEP]. */
            for (int max_len = 2; max_len <= 32; max_len += 3) {
                int keep = n - 2 < max_len - 2 ? n - 2 : max_len - 2;
                m = dsp_tokenize(v, sentence, max_len, got);
                if (m != keep + 2 || !same_ids(got, want, keep + 1) || got[keep + 1] != want[n - 1]) {
                    ok = 0;
                    fprintf(stderr, "%s:%d: truncation to %d differs\n", ref_name, line_no, max_len);
                }
            }
            CHECK(ok);
            matched += ok;
        }
        line = *end ? end + 1 : end;
    }
    free(sentence);
    free(text);
    dsp_vocab_free(v);
    return matched;
}

/* Expected pieces written as space-separated tokens of the vocab ("" = none). */
static void expect_pieces(const dsp_vocab *v, const char *text, const char *tokens, int line) {
    int want[256], n = 0, got[256];
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", tokens);
    for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
        want[n] = dsp_vocab_id(v, t);
        if (want[n] < 0) fprintf(stderr, "line %d: token %s is not in the hand vocab\n", line, t);
        n++;
    }
    int m = dsp_wordpiece(v, text, got, 256);
    dsp_test_checks++;
    if (m != n || !same_ids(got, want, n)) {
        dsp_test_failures++;
        fprintf(stderr, "line %d: wrong pieces for \"%s\" (want %s)\n", line, text, tokens);
        print_ids("want", want, n);
        print_ids("got ", got, m < 256 ? m : 256);
    }
}
#define EXPECT(text, tokens) expect_pieces(v, text, tokens, __LINE__)

static char *repeat(const char *unit, int times) {
    size_t u = strlen(unit);
    char *s = malloc(u * (size_t)times + 1);
    for (int i = 0; i < times; i++) memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)times] = 0;
    return s;
}

static void test_hand_cases(void) {
    char path[1024];
    dsp_err err = {{0}};
    dsp_vocab *v = NULL;
    CHECK_OK(dsp_vocab_load(&v, fixture("hand_vocab.txt", path, sizeof path), &err), &err);
    if (!v) return;
    dsp_special_ids sp = dsp_vocab_special(v);
    CHECK(sp.pad == 0 && sp.unk == 2 && sp.cls == 3 && sp.sep == 4 && sp.mask == 5);
    CHECK(dsp_vocab_size(v) == 35);
    CHECK(strcmp(dsp_vocab_token(v, 6), "hello") == 0);
    CHECK(dsp_vocab_token(v, 35) == NULL && dsp_vocab_token(v, -1) == NULL);
    CHECK(dsp_vocab_id(v, "absent") == -1 && dsp_vocab_id(v, "##able") == 18);

    /* case, accents (composed and combining), ligature-free full width kept as is */
    EXPECT("HeLLo WORLD", "hello world");
    EXPECT("Café NAÏVE", "cafe naive");
    EXPECT("cafe\xCC\x81 nai\xCC\x88ve", "cafe naive");
    EXPECT("\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xAC\xEF\xBC\xAC", "ｆｕｌｌ"); /* ＦＵＬＬ: lowered, not folded */
    EXPECT("\xE3\x82\xAC", "カ");                                      /* ガ: the voicing mark is stripped */
    /* punctuation (ASCII and Unicode P*) is a word of its own */
    EXPECT("hello,world!", "hello , world !");
    EXPECT("\xE2\x80\x9Chello\xE2\x80\x9D.", "[UNK] hello [UNK] ."); /* “hello”. */
    EXPECT("unaffable", "un ##aff ##able");
    EXPECT("un,affable", "un , [UNK]");
    /* CJK ideographs are words of their own, even inside a word */
    EXPECT("我爱北京", "我 爱 北 京");
    EXPECT("hello我world", "hello 我 world");
    /* control and format characters vanish without splitting; whitespace of every kind splits */
    EXPECT("hel\x01lo wor\x7f" "ld", "hello world");
    EXPECT("un\xC2\xAD" "affable", "un ##aff ##able");           /* soft hyphen */
    EXPECT("hel\xE2\x80\x8Blo", "hello");                        /* zero-width space */
    EXPECT("hello\xEF\xBF\xBDworld", "[UNK]");                   /* U+FFFD dropped: "helloworld" */
    EXPECT("hello\xE3\x80\x80world\xE2\x80\xA8hello\xC2\xA0world\thello\r\nworld\x0bhello",
           "hello world hello world hello [UNK]");               /* \v is a control: "worldhello" */
    /* unknown words and characters */
    EXPECT("xyz", "[UNK]");
    EXPECT("xxx axy", "x ##x ##x [UNK]");
    /* a word of more than 100 characters (counted after accents are stripped) is [UNK] */
    char *a100 = repeat("a", 100), *a101 = repeat("a", 101), *acute101 = repeat("a\xCC\x81", 101);
    char *want100 = malloc(400);
    strcpy(want100, "a");
    for (int i = 1; i < 100; i++) strcat(want100, " ##a");
    EXPECT(a100, want100);
    EXPECT(a101, "[UNK]");
    acute101[3 * 100] = 0; /* 100 letters with 100 accents: 200 code points, 100 characters after stripping */
    EXPECT(acute101, want100);
    free(a100); free(a101); free(acute101); free(want100);
    /* per-character lowercase (HF): a final capital sigma becomes σ; İ becomes i; ß stays */
    EXPECT("\xCE\x9F\xCE\x94\xCE\xA5\xCE\xA3\xCE\xA3\xCE\x95\xCE\xA5\xCE\xA3", "οδυσσευσ");
    EXPECT("\xC4\xB0stanbul \xC4\xB0", "istanbul i");
    EXPECT("STRA\xC3\x9F" "E", "straße");
    /* canonical reordering (NFD) of combining characters that are not stripped:
     * U+1D16D (class 226) before U+1D165 (class 216) is reordered, unless a class-0 mark (U+034F) separates them;
     * a stripped class-230 accent in between does not separate them. */
    EXPECT("a\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5", "a\xF0\x9D\x85\xA5\xF0\x9D\x85\xAD");
    EXPECT("a\xF0\x9D\x85\xAD\xCD\x8F\xF0\x9D\x85\xA5", "a\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5");
    EXPECT("a\xF0\x9D\x85\xAD\xCC\x81\xF0\x9D\x85\xA5", "a\xF0\x9D\x85\xA5\xF0\x9D\x85\xAD");
    /* special tokens spelled in the text are kept whole (exact spelling only) */
    EXPECT("hello [SEP] world[MASK]", "hello [SEP] world [MASK]");
    EXPECT("[sep] [SEP", "[ sep ] [ sep");
    /* invalid UTF-8 bytes are dropped, the valid characters around them kept */
    EXPECT("hel\xFFlo", "hello");
    EXPECT("hello \xE2\x82world", "hello world");                  /* truncated sequence */
    EXPECT("hel\xC0\xAFlo \xED\xA0\x80world", "hello world");      /* overlong '/', surrogate */
    EXPECT("\xF5\x80\x80\x80hello\xC3", "hello");                  /* above U+10FFFF, lone lead byte */
    EXPECT("", "");
    EXPECT(" \t\r\n ", "");

    /* [CLS] ... [SEP], truncation keeps [SEP] last */
    int ids[16];
    CHECK(dsp_tokenize(v, "", 32, ids) == 2 && ids[0] == sp.cls && ids[1] == sp.sep);
    CHECK(dsp_tokenize(v, NULL, 32, ids) == 2 && ids[0] == sp.cls && ids[1] == sp.sep);
    CHECK(dsp_tokenize(v, "hello world", 32, ids) == 4 && ids[1] == 6 && ids[2] == 7 && ids[3] == sp.sep);
    CHECK(dsp_tokenize(v, "hello world hello", 4, ids) == 4 && ids[1] == 6 && ids[2] == 7 && ids[3] == sp.sep);
    CHECK(dsp_tokenize(v, "unaffable world", 3, ids) == 3 && ids[1] == 16 && ids[2] == sp.sep);
    CHECK(dsp_tokenize(v, "hello", 2, ids) == 2 && ids[0] == sp.cls && ids[1] == sp.sep);
    CHECK(dsp_tokenize(v, "hello", 1, ids) == -1);
    CHECK(dsp_wordpiece(v, "hello world hello", NULL, 0) == 3);
    dsp_vocab_free(v);
}

static void test_vocab_files(void) {
    dsp_err err = {{0}};
    dsp_vocab *v = NULL;
    const char *base = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n";
    char text[512];

    /* a vocab missing any of [PAD] [UNK] [CLS] [SEP] is refused by name; [MASK] is optional */
    CHECK_FAILS(dsp_vocab_from_text(&v, "[PAD]\n[UNK]\n[SEP]\n", 18, &err), &err, "[CLS]");
    CHECK_FAILS(dsp_vocab_from_text(&v, "[PAD]\n[UNK]\n[CLS]\n", 18, &err), &err, "[SEP]");
    CHECK_FAILS(dsp_vocab_from_text(&v, "[PAD]\n[CLS]\n[SEP]\n", 18, &err), &err, "[UNK]");
    CHECK_FAILS(dsp_vocab_from_text(&v, "[UNK]\n[CLS]\n[SEP]\n", 18, &err), &err, "[PAD]");
    CHECK_FAILS(dsp_vocab_from_text(&v, "", 0, &err), &err, "[PAD]");
    CHECK(v == NULL);
    snprintf(text, sizeof text, "\xEF\xBB\xBF%s", base);
    CHECK_FAILS(dsp_vocab_from_text(&v, text, strlen(text), &err), &err, "byte-order mark");
    snprintf(text, sizeof text, "%sgood\nbad\xFF\n", base);
    CHECK_FAILS(dsp_vocab_from_text(&v, text, strlen(text), &err), &err,
                "vocab line 6: token is not valid UTF-8 (byte 0xFF at offset 3)");
    CHECK_FAILS(dsp_vocab_from_text(&v, "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\0b\n", 26, &err), &err,
                "vocab line 5: token contains a NUL byte");
    /* a token's first fault is the one named: here the invalid byte before the NUL */
    CHECK_FAILS(dsp_vocab_from_text(&v, "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\xC0" "b\0c\n", 30, &err), &err,
                "vocab line 5: token is not valid UTF-8 (byte 0xC0 at offset 1)");
    CHECK_FAILS(dsp_vocab_load(&v, "/nonexistent/dir/vocab.txt", &err), &err, "/nonexistent/dir/vocab.txt");

    /* duplicates: the later line wins (HF load_vocab), every line keeps its id */
    snprintf(text, sizeof text, "%shello\nworld\nhello\n", base);
    CHECK_OK(dsp_vocab_from_text(&v, text, strlen(text), &err), &err);
    if (v) {
        int ids[4];
        CHECK(dsp_vocab_size(v) == 7);
        CHECK(dsp_vocab_id(v, "hello") == 6);
        CHECK(strcmp(dsp_vocab_token(v, 4), "hello") == 0);
        CHECK(dsp_wordpiece(v, "Hello", ids, 4) == 1 && ids[0] == 6);
        CHECK(dsp_vocab_special(v).mask == -1);
        dsp_vocab_free(v);
        v = NULL;
    }

    /* CRLF, lone CR, no final newline, an empty line (an id with no token to match) */
    const char *crlf = "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n\r\nworld\rlast";
    CHECK_OK(dsp_vocab_from_text(&v, crlf, strlen(crlf), &err), &err);
    if (v) {
        CHECK(dsp_vocab_size(v) == 8);
        CHECK(dsp_vocab_id(v, "hello") == 4 && dsp_vocab_id(v, "world") == 6 && dsp_vocab_id(v, "last") == 7);
        CHECK(strcmp(dsp_vocab_token(v, 5), "") == 0);
        CHECK(dsp_vocab_special(v).sep == 3);
        /* save writes LF lines in id order; loading it back gives the same vocab */
        char path[1024];
        dsp_test_tmp("tokenizer_saved_vocab.txt", path, sizeof path);
        CHECK_OK(dsp_vocab_save(v, path, &err), &err);
        size_t len;
        char *saved = read_all(path, &len);
        const char *want = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n\nworld\nlast\n";
        CHECK(saved && len == strlen(want) && memcmp(saved, want, len) == 0);
        free(saved);
        dsp_vocab *w = NULL;
        CHECK_OK(dsp_vocab_load(&w, path, &err), &err);
        if (w) {
            CHECK(dsp_vocab_size(w) == 8 && dsp_vocab_id(w, "last") == 7);
            dsp_vocab_free(w);
        }
        remove(path);
        CHECK_FAILS(dsp_vocab_save(v, "/nonexistent/dir/vocab.txt", &err), &err, "/nonexistent/dir/vocab.txt");
        dsp_vocab_free(v);
    }
}

static double now_seconds(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole corpus: time it, and check that early-stopping truncation agrees with the full pieces. */
static void test_corpus(void) {
    char path[1024], vpath[1024];
    const char *files[3] = {"corpus/wiki1m_head.txt", "corpus/wikisplit_complex.txt", "corpus/wikisplit_split.txt"};
    dsp_err err = {{0}};
    dsp_vocab *v = NULL;
    CHECK_OK(dsp_vocab_load(&v, fixture("vocab.txt", vpath, sizeof vpath), &err), &err);
    if (!v) return;
    char *text[3] = {NULL, NULL, NULL};
    for (int f = 0; f < 3; f++) {
        text[f] = read_all(data_file(files[f], path, sizeof path), NULL);
        if (!text[f]) { /* the data is a prerequisite of the suite: a missing file fails, it does not skip */
            CHECK_MSG(0, "cannot read the corpus file %s (set DSP_DATA_DIR)", path);
            for (int g = 0; g < f; g++) free(text[g]);
            dsp_vocab_free(v);
            return;
        }
    }
    /* Split into sentences in place first, so the timing is the tokenizer's alone. */
    int n_sent = 0;
    static char *sent[100000];
    for (int f = 0; f < 3; f++)
        for (char *line = text[f]; *line && n_sent < 100000;) {
            char *end = strchr(line, '\n');
            if (end) *end = 0;
            if (end > line && end[-1] == '\r') end[-1] = 0;
            if (*line) sent[n_sent++] = line;
            if (!end) break;
            line = end + 1;
        }
    static int ids[32], full[MAX_IDS];
    long total = 0, unk = 0;
    double t0 = now_seconds();
    for (int i = 0; i < n_sent; i++) {
        int n = dsp_tokenize(v, sent[i], 32, ids);
        total += n;
        for (int k = 0; k < n; k++) unk += ids[k] == dsp_vocab_special(v).unk;
    }
    double seconds = now_seconds() - t0;
    long full_total = 0;
    int agree = 1;
    t0 = now_seconds();
    for (int i = 0; i < n_sent; i++) {
        int n = dsp_wordpiece(v, sent[i], full, MAX_IDS);
        full_total += n;
        int m = dsp_tokenize(v, sent[i], 32, ids);
        int keep = n < 30 ? n : 30;
        if (m != keep + 2 || !same_ids(ids + 1, full, keep)) agree = 0;
    }
    double seconds_full = now_seconds() - t0;
    printf("corpus: %d sentences, %ld ids at max_len 32 (%.2f%% [UNK]) in %.3f s; %ld untruncated pieces; "
           "wordpiece + tokenize pass %.3f s\n",
           n_sent, total, 100.0 * (double)unk / (double)total, seconds, full_total, seconds_full);
    CHECK(n_sent > 50000);
    CHECK(agree);
    CHECK((double)unk / (double)total < 0.05); /* the vocab was built from this corpus */
    CHECK_MSG(seconds < 10.0, "tokenizing the corpus took %.2f s", seconds); /* a gross-regression guard only */
    for (int f = 0; f < 3; f++) free(text[f]);
    dsp_vocab_free(v);
}

int main(void) {
    char path[1024];
    FILE *probe = fopen(fixture("reference.txt", path, sizeof path), "rb");
    if (!probe) { /* committed files: not finding them is a broken setup, not a missing prerequisite */
        fprintf(stderr, "fixtures not found (%s): set DSP_SOURCE_DIR\n", path);
        return 1;
    }
    fclose(probe);
    int total = 0, matched = check_reference("vocab.txt", "reference.txt", &total);
    printf("reference.txt: %d/%d sentences match the Hugging Face reference\n", matched, total);
    CHECK(total > 300);
    matched = check_reference("unicode_vocab.txt", "unicode_reference.txt", &total);
    printf("unicode_reference.txt: %d/%d lines match the Hugging Face reference\n", matched, total);
    CHECK(total > 100);
    test_hand_cases();
    test_vocab_files();
    test_corpus();
    return dsp_test_end("test_tokenizer");
}
