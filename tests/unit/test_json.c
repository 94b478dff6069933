/* test_json.c — the strict JSON reader, the writer helpers, and config.json in both directions. */
#include "dissipate.h"
#include "json.h"
#include "fixtures_io.h"
#include "testutil.h"

static dsp_err err;

static dsp_json *parse(const char *text) {
    dsp_json *j = NULL;
    if (dsp_json_parse(&j, text, strlen(text), &err)) return NULL;
    return j;
}

/* The text must be rejected with a message containing needle. */
static void rejects(const char *text, size_t len, const char *needle) {
    dsp_json *j = (dsp_json *)1;
    err.msg[0] = 0;
    int r = dsp_json_parse(&j, text, len, &err);
    CHECK_MSG(r != 0 && j == NULL, "accepted %s", text);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "for %s: message \"%s\" lacks \"%s\"", text, err.msg, needle);
}
#define REJECTS(text, needle) rejects(text, sizeof(text) - 1, needle)

static void test_values(void) {
    dsp_json *j = parse(" {\"a\": [1, -0.5, 2.5e3, -0, 1E-2], \"b\": {\"c\": true, \"d\": false, \"e\": null},"
                        " \"s\": \"x\\n\\t\\\"\\\\\\/y\", \"empty\": [], \"o\": {}} ");
    CHECK(j != NULL);
    if (!j) return;
    CHECK(j->type == DSP_JSON_OBJECT && j->count == 5);
    const dsp_json *a = dsp_json_get(j, "a");
    CHECK(a && a->type == DSP_JSON_ARRAY && a->count == 5);
    if (a && a->count == 5) {
        CHECK(a->items[0].number == 1.0);
        CHECK(a->items[1].number == -0.5);
        CHECK(a->items[2].number == 2500.0);
        CHECK(a->items[3].number == 0.0 && signbit(a->items[3].number));
        CHECK(a->items[4].number == 0.01);
        /* each number keeps its literal, so an integer beyond 2^53 can be read exactly */
        CHECK(strcmp(a->items[2].string, "2.5e3") == 0 && strcmp(a->items[3].string, "-0") == 0);
    }
    const dsp_json *b = dsp_json_get(j, "b");
    CHECK(dsp_json_get(b, "c")->type == DSP_JSON_BOOL && dsp_json_get(b, "c")->boolean == 1);
    CHECK(dsp_json_get(b, "d")->boolean == 0);
    CHECK(dsp_json_get(b, "e")->type == DSP_JSON_NULL);
    CHECK(strcmp(dsp_json_get(j, "s")->string, "x\n\t\"\\/y") == 0);
    CHECK(dsp_json_get(j, "empty")->count == 0 && dsp_json_get(j, "o")->type == DSP_JSON_OBJECT);
    CHECK(dsp_json_get(j, "missing") == NULL);
    CHECK(dsp_json_get(a, "a") == NULL); /* not an object */
    dsp_json_free(j);

    /* Scalars at the top level (RFC 8259), and a byte order mark. */
    j = parse("\xEF\xBB\xBF 42 ");
    CHECK(j && j->type == DSP_JSON_NUMBER && j->number == 42);
    dsp_json_free(j);
    j = parse("18446744073709551615");
    CHECK(j && strcmp(j->string, "18446744073709551615") == 0);
    dsp_json_free(j);

    /* \u escapes: BMP, a surrogate pair (U+1F600), and raw UTF-8 passed through. */
    j = parse("\"\\u00e9\\u20AC\\ud83d\\ude00 caf\xC3\xA9\"");
    CHECK(j && strcmp(j->string, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 caf\xC3\xA9") == 0);
    dsp_json_free(j);

    int64_t v;
    j = parse("[3, 3.5, -1, 1e300, \"3\"]");
    CHECK(dsp_json_to_int64(&j->items[0], 0, 10, &v) && v == 3);
    CHECK(!dsp_json_to_int64(&j->items[1], 0, 10, &v));
    CHECK(!dsp_json_to_int64(&j->items[2], 0, 10, &v));
    CHECK(!dsp_json_to_int64(&j->items[3], INT64_MIN, INT64_MAX, &v));
    CHECK(!dsp_json_to_int64(&j->items[4], 0, 10, &v));
    dsp_json_free(j);
}

static void test_errors(void) {
    REJECTS("", "unexpected end of input");
    REJECTS("   ", "line 1, column 4");
    REJECTS("{\n  \"a\": 1,\n  \"b\": }", "line 3, column 8");
    REJECTS("[1, 2,]", "line 1, column 7");
    REJECTS("{\"a\": 1,}", "expected a string key");
    REJECTS("{\"a\" 1}", "expected ':'");
    REJECTS("[1 2]", "expected ',' or ']'");
    REJECTS("{\"a\": 1 \"b\": 2}", "expected ',' or '}'");
    REJECTS("01", "leading zero");
    REJECTS("1.", "digit expected after '.'");
    REJECTS(".5", "invalid number");
    REJECTS("+1", "invalid number");
    REJECTS("1e", "digit expected in exponent");
    REJECTS("-", "invalid number");
    REJECTS("1e400", "out of range");
    REJECTS("NaN", "invalid number");
    REJECTS("Infinity", "invalid number");
    REJECTS("tru", "invalid literal");
    REJECTS("nul", "invalid literal");
    REJECTS("\"abc", "unterminated string");
    REJECTS("\"a\\\"", "unterminated string");
    REJECTS("\"a\tb\"", "control character");
    REJECTS("\"\\x\"", "invalid escape");
    REJECTS("\"\\u12\"", "four hex digits");
    REJECTS("\"\\u12G4\"", "four hex digits");
    REJECTS("\"\\ud800\"", "not followed by a low surrogate");
    REJECTS("\"\\ud800\\u0041\"", "not followed by a low surrogate");
    REJECTS("\"\\udc00\"", "lone low surrogate");
    REJECTS("\"\\u0000\"", "\\u0000");
    REJECTS("\"\xC0\x80\"", "invalid UTF-8");     /* overlong NUL */
    REJECTS("\"\xED\xA0\x80\"", "invalid UTF-8"); /* an encoded surrogate */
    REJECTS("\"\xFF\"", "invalid UTF-8");
    REJECTS("\"\xE2\x82\"", "invalid UTF-8"); /* truncated sequence */
    REJECTS("\"\xF4\x90\x80\x80\"", "invalid UTF-8"); /* above U+10FFFF */
    REJECTS("{\"a\": 1, \"b\": 2, \"a\": 3}", "duplicate key \"a\"");
    REJECTS("1 2", "unexpected text after the JSON value");
    REJECTS("// comment\n1", "line 1, column 1");
    REJECTS("{'a': 1}", "expected a string key");
    REJECTS("[1]\x00", "unexpected text"); /* an embedded NUL inside len */
    rejects("{\"a\": 1}", 3, "unterminated string"); /* len cuts the text */

    /* Nesting: 64 levels are fine, 65 are not. */
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        for (int i = 0; i < depth; i++) deep[i] = '[', deep[2 * depth - 1 - i] = ']';
        dsp_json *j = NULL;
        int r = dsp_json_parse(&j, deep, (size_t)(2 * depth), &err);
        CHECK_MSG((r == 0) == (depth == 64), "depth %d: r = %d (%s)", depth, r, err.msg);
        if (depth == 65) CHECK(strstr(err.msg, "nesting deeper than 64") != NULL);
        dsp_json_free(j);
    }
}

static void test_writer(void) {
    dsp_buf b = {0};
    /* Every control character, quote, backslash, UTF-8 and a stray byte survive a round trip. */
    char s[64];
    int n = 0;
    for (int c = 1; c < 32; c++) s[n++] = (char)c;
    const char *tail = "\"\\/ \xC3\xA9\xFF!";
    strcpy(s + n, tail);
    CHECK(dsp_buf_json_string(&b, s) == 0);
    dsp_json *j = NULL;
    CHECK_OK(dsp_json_parse(&j, b.data, b.len, &err), &err);
    if (j) {
        CHECK(j->type == DSP_JSON_STRING);
        CHECK(memcmp(j->string, s, (size_t)n + 4) == 0); /* controls, quote, backslash, slash, space */
        CHECK(strcmp(j->string + n + 4, "\xC3\xA9\xEF\xBF\xBD!") == 0); /* é kept, 0xFF → U+FFFD */
    }
    dsp_json_free(j);
    dsp_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);

    /* Growth across many appends keeps the content and the terminating NUL. */
    for (int i = 0; i < 1000; i++) CHECK(dsp_buf_printf(&b, "%d,", i) == 0);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0 && strlen(b.data) == b.len);
    CHECK(strcmp(b.data + b.len - 4, "999,") == 0);
    dsp_buf_free(&b);

    /* Floats: the shortest text that reads back as the same float. */
    const float known[] = {0.1f, 1e-12f, 3.0f, 0.02f, 0.0f};
    const char *text[] = {"0.1", "1e-12", "3", "0.02", "0"};
    for (int i = 0; i < 5; i++) {
        dsp_buf_free(&b);
        CHECK(dsp_buf_json_float(&b, known[i]) == 0);
        CHECK_MSG(strcmp(b.data, text[i]) == 0, "%g written as %s", (double)known[i], b.data);
    }
    unsigned long long seed = 7;
    for (int i = 0; i < 2000; i++) {
        float f = dsp_test_rand(&seed) * powf(10.0f, (float)(i % 60 - 30));
        dsp_buf_free(&b);
        CHECK(dsp_buf_json_float(&b, f) == 0);
        dsp_json *x = NULL;
        CHECK_OK(dsp_json_parse(&x, b.data, b.len, &err), &err);
        if (x) CHECK_MSG((float)x->number == f, "%.9g written as %s", (double)f, b.data);
        dsp_json_free(x);
    }
    dsp_buf_free(&b);
    CHECK(dsp_buf_json_float(&b, NAN) != 0);
    dsp_buf_free(&b);
}

/* Random corruption of a valid document: every outcome is a tree or a message, never a crash (the sanitizer
 * build checks the reads), and a success still yields a well-formed tree. */
static void test_fuzz(void) {
    const char *doc = "{\"a\": [1, -2.5e-3, true, null, {\"b\": \"x\\u00e9\\ud83d\\ude00\\n\"}], \"c\": {}, \"d\": \"caf\xC3\xA9\"}";
    size_t n = strlen(doc);
    unsigned long long s = 2024;
    int parsed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char *copy = malloc(n);
        memcpy(copy, doc, n);
        for (int k = 0; k <= iter % 4; k++) {
            size_t at = (size_t)((dsp_test_rand(&s) + 1.0f) * 0.5f * (float)n) % n;
            copy[at] = (iter & 1) ? "{}[],:\"\\u0123456789eE.-+tfn \xC3\xED\xF0"[at % 31] : (char)(dsp_test_rand(&s) * 128);
        }
        size_t len = (size_t)((dsp_test_rand(&s) + 1.0f) * 0.5f * (float)n) % (n + 1);
        if (iter % 3) len = n;
        dsp_json *j = NULL;
        if (dsp_json_parse(&j, copy, len, &err) == 0) {
            parsed++;
            CHECK(j != NULL);
        } else {
            CHECK_MSG(j == NULL && strstr(err.msg, "JSON error at line ") == err.msg, "%s", err.msg);
        }
        dsp_json_free(j);
        free(copy);
    }
    printf("fuzz: %d of 20000 corrupted documents still parsed\n", parsed);
}

static void check_config_rejected(const char *json, const char *needle) {
    dsp_config c;
    CHECK_FAILS(dsp_config_from_json(&c, json, strlen(json), &err), &err, needle);
}

static char *read_fixture(const char *name) {
    char path[1024];
    fixture_path(name, path, sizeof path);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_config(void) {
    /* Round trip, with values away from the defaults so a forgotten key shows. */
    dsp_config a = dsp_config_tiny(1234);
    a.num_hidden_layers = 3;
    a.num_attention_heads = 4;
    a.intermediate_size = 300;
    a.max_position_embeddings = 64;
    a.type_vocab_size = 1;
    a.layer_norm_eps = 1e-5f;
    a.hidden_dropout_prob = 0.15f;
    a.attention_probs_dropout_prob = 0.0f;
    char *json = dsp_config_to_json(&a);
    CHECK(json != NULL);
    if (!json) return;
    dsp_config b;
    CHECK_OK(dsp_config_from_json(&b, json, strlen(json), &err), &err);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* What transformers and sentence-transformers look for. */
    dsp_json *j = parse(json);
    CHECK(j != NULL);
    const dsp_json *arch = dsp_json_get(j, "architectures");
    CHECK(arch && arch->count == 1 && strcmp(arch->items[0].string, "BertModel") == 0);
    CHECK(strcmp(dsp_json_get(j, "model_type")->string, "bert") == 0);
    CHECK(strcmp(dsp_json_get(j, "hidden_act")->string, "gelu") == 0);
    CHECK(strcmp(dsp_json_get(j, "position_embedding_type")->string, "absolute") == 0);
    CHECK(dsp_json_get(j, "pad_token_id")->number == 0);
    CHECK(dsp_json_get(j, "layer_norm_eps")->number == 1e-5);
    dsp_json_free(j);
    free(json);

    dsp_config bad = a;
    bad.num_attention_heads = 5;
    CHECK(dsp_config_to_json(&bad) == NULL);

    /* Hugging Face files. Google's BERT-tiny omits layer_norm_eps: BertConfig's default applies. */
    char *text = read_fixture("bert_uncased_L-2_H-128_A-2.config.json");
    if (text) {
        CHECK_OK(dsp_config_from_json(&b, text, strlen(text), &err), &err);
        dsp_config want = dsp_config_tiny(30522);
        CHECK(memcmp(&b, &want, sizeof b) == 0);
        free(text);
    }
    text = read_fixture("all-MiniLM-L6-v2.config.json");
    if (text) {
        CHECK_OK(dsp_config_from_json(&b, text, strlen(text), &err), &err);
        CHECK(b.hidden_size == 384 && b.num_hidden_layers == 6 && b.num_attention_heads == 12 &&
              b.intermediate_size == 1536 && b.vocab_size == 30522 && b.layer_norm_eps == 1e-12f);
        free(text);
    }

#define BASE "\"vocab_size\": 100, \"hidden_size\": 64, \"num_hidden_layers\": 2, \"intermediate_size\": 128, " \
             "\"max_position_embeddings\": 64"
    check_config_rejected("{" BASE ", \"num_attention_heads\": 5}", "not divisible by num_attention_heads 5");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"hidden_act\": \"relu\"}",
                          "hidden_act \"relu\" is not supported");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"hidden_act\": \"gelu_new\"}",
                          "hidden_act \"gelu_new\" is not supported");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"hidden_act\": 3}", "\"hidden_act\" must be the string");
    check_config_rejected("{" BASE "}", "lacks the required key \"num_attention_heads\"");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4,}", "JSON error at line 1, column");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4.5}", "\"num_attention_heads\" must be an integer, found 4.5");
    check_config_rejected("{" BASE ", \"num_attention_heads\": \"4\"}", "must be an integer, found a string");
    /* an integer past int's range is "out of range", not "must be an integer" (it is one) */
    check_config_rejected("{" BASE ", \"num_attention_heads\": 1099511627776}",
                          "\"num_attention_heads\" is 1099511627776, out of range");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4.5}", "must be an integer, found 4.5");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"position_embedding_type\": \"relative_key\"}",
                          "position_embedding_type \"relative_key\" is not supported");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"model_type\": \"roberta\"}",
                          "model_type \"roberta\" is not supported");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"is_decoder\": true}", "\"is_decoder\" must be false");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"layer_norm_eps\": \"x\"}", "\"layer_norm_eps\" must be a number");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"layer_norm_eps\": 1e300}", "out of range");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"hidden_dropout_prob\": 1.5}", "hidden_dropout_prob");
    check_config_rejected("{" BASE ", \"num_attention_heads\": 4, \"num_hidden_layers\": 0}", "duplicate key");
    check_config_rejected("[1, 2]", "must be a JSON object, found an array");
    /* Harmless extras are accepted, and absent optional keys take BertConfig's defaults. */
    const char *ok = "{" BASE ", \"num_attention_heads\": 4, \"pad_token_id\": 0, \"torch_dtype\": \"float32\","
                     " \"architectures\": [\"BertForMaskedLM\"], \"is_decoder\": false, \"classifier_dropout\": null}";
    CHECK_OK(dsp_config_from_json(&b, ok, strlen(ok), &err), &err);
    CHECK(b.type_vocab_size == 2 && b.layer_norm_eps == 1e-12f && b.hidden_dropout_prob == 0.1f);
#undef BASE
}

int main(void) {
    test_values();
    test_errors();
    test_writer();
    test_fuzz();
    test_config();
    return dsp_test_end("test_json");
}
