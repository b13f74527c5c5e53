# stratagem -- top-level Makefile (plain GNU make).
#
#   make            build/libstratagem.a and build/stratagem
#   make test       install missing packages, build, run unit tests normally and
#                   under ASan+UBSan, with a private PostgreSQL server started for the
#                   workspace tests (scripts/pg-test.sh); ends with one line "N passed, N failed"
#   make test-slow  integration tests (CLI end to end, loss bands, ...)
#   make demo       the main job end to end on public data
#   make bench      peer comparisons (xgboost, scikit-learn, pandas), never timed in tests
#   make asan       build/asan: the library, program and tests with sanitizers
#   make debug      -O0 -g build in build/debug
# Knobs: BLAS=openblas|ref  OPENMP=0|1  MPI=0|1  V=1 (show commands)  WERROR=1

BLAS   ?= openblas
OPENMP ?= 1
BUILD  ?= build
OPT    ?= -O2 -g
CC     ?= cc

# Warnings, as listed in STYLE.md section 9: -Wshadow catches a local hiding a
# parameter, -Wdouble-promotion a float silently widened in numeric code.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wdouble-promotion \
        -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

CPPFLAGS := -Iinclude -Isrc -D_GNU_SOURCE
CFLAGS   := -std=c11 $(OPT) $(WARN) -fvisibility=hidden -MMD -MP $(EXTRA_CFLAGS)
# SQLite and libpq (workspace), jansson (JSON), libpng and zlib (images, IDX files)
CPPFLAGS += $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
LDLIBS   := -lsqlite3 -lpq -ljansson -lpng -lz -lm -lpthread
# libmicrohttpd (the HTTP service, src/http/)
LDLIBS   += -lmicrohttpd
# Open MPI (several processes training one model, src/util/dist.c), when installed;
# MPI=0 builds without it
MPI ?= $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1 || echo 0)
ifeq ($(MPI),1)
CPPFLAGS += -DSG_USE_MPI $(shell pkg-config --cflags ompi-c)
LDLIBS   += $(shell pkg-config --libs ompi-c)
endif

ifeq ($(BLAS),openblas)
CPPFLAGS += -DSG_USE_BLAS $(shell pkg-config --cflags openblas 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif
ifeq ($(OPENMP),1)
CFLAGS  += -fopenmp
LDFLAGS += -fopenmp
endif

ifneq ($(V),1)
Q := @
QCC = @echo "  CC   $<";
QLD = @echo "  LD   $@";
QAR = @echo "  AR   $@";
endif

LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/http/*' | LC_ALL=C sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | LC_ALL=C sort)
HTTP_SRC := $(shell find src/http -name '*.c' | LC_ALL=C sort)
TEST_SRC := $(wildcard tests/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
HTTP_OBJ := $(HTTP_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test test-unit test-asan test-slow demo bench asan debug clean deps
.DEFAULT_GOAL := all

all: $(BUILD)/libstratagem.a $(BUILD)/stratagem

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QCC)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libstratagem.a: $(LIB_OBJ)
	$(QAR)rm -f $@ && ar rcs $@ $^

# the HTTP service: its own archive, on top of the library (it uses only the public API)
$(BUILD)/libstratagem_http.a: $(HTTP_OBJ)
	$(QAR)rm -f $@ && ar rcs $@ $^

$(BUILD)/stratagem: $(CLI_OBJ) $(BUILD)/libstratagem_http.a $(BUILD)/libstratagem.a
	$(QLD)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libstratagem_http.a $(BUILD)/libstratagem.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libstratagem_http.a $(BUILD)/libstratagem.a
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libstratagem_http.a $(BUILD)/libstratagem.a -lcmocka $(LDLIBS)

tests: $(TEST_BIN)

# 'make test': dependencies, then the unit tests in a normal and a sanitizer build.
test: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined $(if $(filter 1,$(OPENMP)),-fopenmp)" all tests
	$(Q)scripts/pg-test.sh $(BUILD) -- scripts/run-tests.sh $(BUILD)/tests $(BUILD)/asan/tests

test-unit: all tests
	$(Q)scripts/run-tests.sh $(BUILD)/tests

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined $(if $(filter 1,$(OPENMP)),-fopenmp)" all tests

debug:
	$(Q)$(MAKE) --no-print-directory BUILD=build/debug OPT="-O0 -g" all tests

test-slow: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-integration.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/deps.sh --bench
	$(Q)bench/run.sh

deps:
	$(Q)scripts/deps.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(HTTP_OBJ:.o=.d)
