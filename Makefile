# profshim — see README.md.  `make` builds build/libprofshim.so and
# build/profanalyze; `make demo`, `make test`, `make bench`, `make install`.

CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

WARN := -Wall -Wextra -Werror
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude
# preload/ is grouped too: core/ (process, threads, writer, the recorder
# table) and one folder per recorder.
SHIM_DIRS := preload/core preload/cpu preload/mem preload/calls preload/io
SHIM_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	-fno-omit-frame-pointer -pthread $(addprefix -I,$(SHIM_DIRS))
# libzstd linked in (its PIC archive, symbols kept local): one shared
# object less to map and bind in every process (issue 15q: -0.1..0.2 ms of
# a /bin/true's start-up). -z now: zstd's calls into libc are bound at load,
# never lazily on the raw compressor thread (no glibc thread of its own).
SHIM_LIBS := -lunwind -ldl -lpthread -lrt -Wl,-Bstatic -lzstd -Wl,-Bdynamic \
	-Wl,--exclude-libs,libzstd.a -Wl,-z,now
# analyze/ is grouped by pipeline stage: read/ (sessions, decoding, merge,
# symbols), model/ (one model per recorder), analysis/ (analyses over the
# models), output/ (one writer per format), report/ (the text and JSON
# report's sections). main.c sits on top.
ANALYZE_DIRS := analyze analyze/read analyze/model analyze/analysis analyze/output analyze/report
ANALYZE_CFLAGS := $(BASE_CFLAGS) $(addprefix -I,$(ANALYZE_DIRS))
ANALYZE_LIBS := -ldw -lelf -lcjson -lz -lzstd -lm -lstdc++
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SHIM_SRC := $(wildcard $(addsuffix /*.c,$(SHIM_DIRS)))
ANALYZE_SRC := $(filter-out analyze/main.c,$(wildcard $(addsuffix /*.c,$(ANALYZE_DIRS))))
HEADERS := $(wildcard include/*.h $(addsuffix /*.h,$(SHIM_DIRS) $(ANALYZE_DIRS)))

SHIM := $(BUILD)/libprofshim.so
ANALYZE := $(BUILD)/profanalyze

# Test programs: tests/progs/NAME.c -> $(BUILD)/tests/NAME. Programs named
# fi_* are built with -finstrument-functions; *.cpp are C++.
PROG_C := $(wildcard tests/progs/*.c)
PROG_CXX := $(wildcard tests/progs/*.cpp)
PROGS := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(PROG_C)) \
	 $(patsubst tests/progs/%.cpp,$(BUILD)/tests/%,$(PROG_CXX))
TESTLIBS := $(patsubst tests/progs/lib/%.c,$(BUILD)/tests/%.so,$(wildcard tests/progs/lib/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
PROG_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Iinclude -pthread \
	-fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc

.PHONY: all deps demo test test-unit test-bats test-asan bench install clean format fuzz

all: $(SHIM) $(ANALYZE)

deps:
	@bash tools/install-deps.sh

$(BUILD)/preload/%.o: preload/%.c $(HEADERS) | $(BUILD)/preload
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(SHIM): $(patsubst preload/%.c,$(BUILD)/preload/%.o,$(SHIM_SRC))
	$(CC) -shared -o $@ $^ $(SHIM_LIBS) -Wl,-z,defs -Wl,--version-script=preload/exports.map

$(BUILD)/analyze/%.o: analyze/%.c $(HEADERS) | $(BUILD)/analyze
	@mkdir -p $(@D)
	$(CC) $(ANALYZE_CFLAGS) -c $< -o $@

$(ANALYZE): $(patsubst analyze/%.c,$(BUILD)/analyze/%.o,$(ANALYZE_SRC) analyze/main.c)
	$(CC) -o $@ $^ $(ANALYZE_LIBS)

$(BUILD)/preload $(BUILD)/analyze $(BUILD)/tests $(BUILD)/tests/unit:
	mkdir -p $@

# --- tests ---
$(BUILD)/tests/fi_%: tests/progs/fi_%.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -finstrument-functions -rdynamic -o $@ $< -ldl
$(BUILD)/tests/fi_%: tests/progs/fi_%.cpp | $(BUILD)/tests
	$(CXX) -O1 -g -Iinclude -pthread -finstrument-functions -rdynamic -o $@ $<
$(BUILD)/tests/%_jemalloc: tests/progs/%_jemalloc.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< -ljemalloc -ldl -lm
$(BUILD)/tests/%: tests/progs/%.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< -ldl -lm
$(BUILD)/tests/%: tests/progs/%.cpp | $(BUILD)/tests
	$(CXX) -O1 -g -Iinclude -pthread -rdynamic -o $@ $<
$(BUILD)/tests/%.so: tests/progs/lib/%.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -shared -fPIC -o $@ $<
# Unit tests link the analyze pieces (not main.c) and may include preload code.
$(BUILD)/tests/unit/%: tests/unit/%.c $(patsubst analyze/%.c,$(BUILD)/analyze/%.o,$(ANALYZE_SRC)) $(HEADERS) | $(BUILD)/tests/unit
	$(CC) $(ANALYZE_CFLAGS) $(addprefix -I,$(SHIM_DIRS)) -o $@ $< $(patsubst analyze/%.c,$(BUILD)/analyze/%.o,$(ANALYZE_SRC)) $(ANALYZE_LIBS)

test-progs: all $(PROGS) $(TESTLIBS) $(UNITS)

test-unit: test-progs
	@bash tests/run-unit.sh $(UNITS)

test-bats: test-progs
	bats --jobs 2 --no-parallelize-within-files tests/*.bats 2>/dev/null || bats tests/*.bats

# profanalyze, the unit tests and the suite again with ASan/UBSan.
test-asan: deps test-progs
	$(MAKE) BUILD=build-asan CC="$(CC)" BASE_CFLAGS="$(BASE_CFLAGS) $(SAN)" \
		ANALYZE_LIBS="$(ANALYZE_LIBS) $(SAN)" SHIM_BUILD_SKIP=1 build-asan/profanalyze \
		$(patsubst $(BUILD)/%,build-asan/%,$(UNITS))
	find $(BUILD)/tests -maxdepth 1 -type f -exec cp {} build-asan/tests/ \;
	@bash tests/run-unit.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNITS))
	PROFANALYZE=$(CURDIR)/build-asan/profanalyze bats tests/*.bats

test: deps
	@bash tests/run-all.sh

demo: deps all $(PROGS)
	@bash tools/demo.sh

bench: deps all
	@bash tools/bench.sh

fuzz: deps
	@bash tools/fuzz.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(SHIM) $(DESTDIR)$(PREFIX)/lib/libprofshim.so
	install -m 755 $(ANALYZE) $(DESTDIR)$(PREFIX)/bin/profanalyze
	sed 's|@LIB@|$(PREFIX)/lib/libprofshim.so|; s|@ANALYZE@|$(PREFIX)/bin/profanalyze|' \
		tools/profshim > $(DESTDIR)$(PREFIX)/bin/profshim
	chmod 755 $(DESTDIR)$(PREFIX)/bin/profshim
	install -m 644 include/profshim.h $(DESTDIR)$(PREFIX)/include/profshim.h
	sed 's|@PREFIX@|$(PREFIX)|' tools/profshim.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/profshim.pc

format:
	clang-format -i $(addsuffix /*.[ch],$(SHIM_DIRS) $(ANALYZE_DIRS)) include/*.h tools/*.c tests/progs/*.c tests/unit/*.c

clean:
	rm -rf build build-asan demo-out

# `make -s print-VAR` prints a variable (tests/run-all.sh takes the link
# libraries from here rather than keeping its own list).
print-%:
	@echo $($*)
