// Declarations only (include/CLibFuzzer.h): libFuzzer's runtime defines the driver.
