// Default runtime options of the sanitizer builds (scripts/build sanitize|tsan),
// compiled into every executable of those builds so that `ctest` or a relayhost
// started by hand behave exactly as under scripts/test: the first report stops the
// program, and the suppression files name the few library frames that are skipped.
// Environment variables (UBSAN_OPTIONS, TSAN_OPTIONS) still override these.

#define RH_SUPP(name) "suppressions=" RELAYHOST_SANITIZER_DIR "/" name

extern "C" {

#if defined(__SANITIZE_ADDRESS__)
const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1:" RH_SUPP("ubsan.supp"); }
#endif

#if defined(__SANITIZE_THREAD__)
const char* __tsan_default_options() { return "halt_on_error=1:second_deadlock_stack=1:" RH_SUPP("tsan.supp"); }
#endif

}
