/*
 * Jansson's public configuration for the WebAssembly build (scripts/build-wasm),
 * the values Jansson's configure would choose for emscripten's wasm32 target:
 * json_int_t is long long, no locale, the compiler's atomic builtins, and the
 * release's default nesting limit for the parser.
 */
#ifndef PL_WASM_JANSSON_CONFIG_H
#define PL_WASM_JANSSON_CONFIG_H

#define JSON_INLINE               inline
#define JSON_INTEGER_IS_LONG_LONG 1
#define JSON_HAVE_LOCALECONV      0
#define JSON_HAVE_ATOMIC_BUILTINS 1
#define JSON_HAVE_SYNC_BUILTINS   1
#define JSON_PARSER_MAX_DEPTH     2048

#endif
