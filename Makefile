# Parley: the two commands are `make demo` and `make check`. Meson does the building.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 8

.PHONY: all deps build check test sanitize fuzz format-check format demo bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

test: build
	meson test -C $(BUILD) --print-errorlogs

# Unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all \
		-Dwasm=disabled
	meson compile -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs

# Each libFuzzer target for a few seconds, when clang is present.
fuzz: deps
	@scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

format-check:
	@scripts/check-format

format:
	@scripts/check-format --fix

check: test sanitize fuzz format-check

# The demo shows the story, not the compiler: the build's output goes to $(BUILD)/demo-build.log
# and is shown (its last lines) only when the build fails.
demo: deps
	@mkdir -p $(BUILD); log=$(BUILD)/demo-build.log; \
	echo "Building Parley (output in $$log)..."; \
	if ! { [ -f $(BUILD)/build.ninja ] || meson setup $(BUILD); } >$$log.tmp 2>&1 || \
	   ! meson compile -C $(BUILD) >>$$log.tmp 2>&1; then \
		mv $$log.tmp $$log; tail -40 $$log; \
		echo "make demo: the build failed; its whole output is in $$log"; exit 1; \
	fi; mv $$log.tmp $$log
	@scripts/demo $(BUILD)

bench: build
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
