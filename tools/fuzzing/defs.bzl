"""One way to declare a libFuzzer target and the test that replays its checked-in corpus."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def fuzz_target(name, srcs, deps, corpus):
    """Declares <name>_fuzz and <name>_fuzz_replay.

    bazel build --config=fuzz //pkg:<name>_fuzz links libFuzzer (run it with tools/fuzz); in a
    normal build the same binary replays files given as arguments. <name>_fuzz_replay is a plain
    test that runs every file under `corpus` (a directory of the package: seeds and every crasher
    found, kept as regression inputs).
    """
    cc_binary(
        name = name + "_fuzz",
        testonly = True,
        srcs = srcs,
        # clang links with its C driver, so UBSan's C++ runtime (vptr checks) must be asked for.
        linkopts = select({
            "//tools/fuzzing:fuzzing": ["-fsanitize=fuzzer", "-fsanitize-link-c++-runtime"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//tools/fuzzing:fuzzing": [],
            "//conditions:default": ["//tools/fuzzing:replay_main"],
        }),
    )
    cc_test(
        name = name + "_fuzz_replay",
        size = "small",
        srcs = srcs,
        args = ["%s/%s" % (native.package_name(), corpus)],
        data = native.glob([corpus + "/**"]),
        deps = deps + ["//tools/fuzzing:replay_main"],
    )
