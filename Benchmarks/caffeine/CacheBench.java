// Caffeine's Cache<String, byte[]> (Debian's caffeine.jar) on the mixed workloads of
// ../shared/anchors/WORKLOADS.md, for scripts/bench-bounded.sh. Default JVM flags.
//
//   java -cp caffeine.jar:classes CacheBench WORKLOAD THREADS [OPS_PER_THREAD]
//
// WORKLOAD is R90, R50 or Z90, with ChmBench's generator, seeds, key choice, load of the
// 1,000,000 keys and warm-up round (OPS/5 per thread). CACHE_BENCH_BOUND=N builds the cache
// with maximumSize(N); misses are then expected and reported on a "#" line. The maintenance
// runs on the default executor (ForkJoinPool.commonPool()), or on the calling thread with
// CACHE_BENCH_EXECUTOR=caller. Prints "caffeine WORKLOAD THREADS FIGURE" lines (caffeine-N
// when bounded, with a "-caller" suffix for the caller executor); "#" lines are diagnostics.

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntToLongFunction;

public final class CacheBench {
    static final int NUM_KEYS = 1_000_000;
    static final int VALUE_SIZE = 64;
    static final double ZIPF_S = 0.99;
    static final long GOLDEN = 0x9E3779B97F4A7C15L;
    static final AtomicLong READS = new AtomicLong();
    static String program = "caffeine";

    /** SplitMix64's output function; the state advances by GOLDEN before each call. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Maps the low 32 bits of r onto [0, n). */
    static int uniformIndex(long r, int n) {
        return (int) (((r & 0xFFFFFFFFL) * n) >>> 32);
    }

    static String[] makeKeys() {
        String[] keys = new String[NUM_KEYS];
        for (int i = 0; i < NUM_KEYS; i++) keys[i] = String.format("key:%08d", i);
        return keys;
    }

    static byte[] freshValue(long x) {
        byte[] v = new byte[VALUE_SIZE];
        for (int b = 0; b < 8; b++) v[b] = (byte) (x >>> (8 * b)); // little-endian, as Go's PutUint64
        return v;
    }

    static double[] zipfCdf() {
        double[] cdf = new double[NUM_KEYS];
        double sum = 0;
        for (int k = 1; k <= NUM_KEYS; k++) {
            sum += Math.pow(k, -ZIPF_S);
            cdf[k - 1] = sum;
        }
        return cdf;
    }

    /** Inverse-CDF Zipf draws; rank r (0-based) is scattered as (r * 2654435761) % NUM_KEYS. */
    static int[] zipfSamples(double[] cdf, int n, long seed) {
        long s = seed;
        double total = cdf[cdf.length - 1];
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            s += GOLDEN;
            double u = (double) (mix(s) >>> 11) * (1.0 / (1L << 53)) * total;
            int lo = 0, hi = cdf.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] < u) lo = mid + 1; else hi = mid;
            }
            out[i] = (int) ((lo * 2654435761L) % NUM_KEYS);
        }
        return out;
    }

    /** Starts threads workers, releases them together, times them until the last ends. Returns {nanos, misses}. */
    static long[] runThreads(int threads, IntToLongFunction work) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch start = new CountDownLatch(1);
        long[] results = new long[threads];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            ts[t] = new Thread(() -> {
                ready.countDown();
                try { start.await(); } catch (InterruptedException e) { throw new RuntimeException(e); }
                results[id] = work.applyAsLong(id);
            });
            ts[t].start();
        }
        ready.await();
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread th : ts) th.join();
        long elapsed = System.nanoTime() - t0;
        long misses = 0;
        for (long m : results) misses += m;
        return new long[] {elapsed, misses};
    }

    /** ops operations: readPct% getIfPresent (reading the value's first byte), the rest put of a fresh value; keys uniform, or from samples if not null. */
    static long mixed(Cache<String, byte[]> cache, String[] keys, int ops, long readPct, long seed, int[] samples) {
        long s = seed;
        boolean useSamples = samples != null;
        long misses = 0, reads = 0, sink = 0;
        for (int i = 0; i < ops; i++) {
            s += GOLDEN;
            long r = mix(s);
            int idx = useSamples ? samples[i] : uniformIndex(r, keys.length);
            String key = keys[idx];
            if ((r >>> 32) % 100 < readPct) {
                reads++;
                byte[] v = cache.getIfPresent(key);
                if (v != null) sink += v.length + v[0]; else misses++; // read the value, as a caller would
            } else {
                cache.put(key, freshValue(r));
            }
        }
        READS.addAndGet(reads);
        if (sink < 0) System.out.println(sink);
        return misses;
    }

    static Cache<String, byte[]> load(String[] keys, long bound, boolean callerRuns) {
        Caffeine<Object, Object> builder = Caffeine.newBuilder();
        if (bound > 0) builder.maximumSize(bound);
        if (callerRuns) builder.executor(Runnable::run);
        Cache<String, byte[]> cache = builder.build();
        for (int i = 0; i < keys.length; i++) cache.put(keys[i], freshValue(i));
        return cache;
    }

    static void report(String workload, int threads, double figure) {
        System.out.printf("%s %s %d %.0f%n", program, workload, threads, figure);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: CacheBench WORKLOAD THREADS [OPS_PER_THREAD]");
            System.exit(2);
        }
        String workload = args[0];
        int threads = Integer.parseInt(args[1]);
        int ops = args.length > 2 ? Integer.parseInt(args[2]) : 5_000_000;
        String boundText = System.getenv("CACHE_BENCH_BOUND");
        long bound = boundText == null || boundText.isEmpty() ? 0 : Long.parseLong(boundText);
        String executor = System.getenv("CACHE_BENCH_EXECUTOR");
        boolean callerRuns = "caller".equals(executor);
        if (executor != null && !executor.isEmpty() && !callerRuns) {
            System.err.println("CACHE_BENCH_EXECUTOR: unknown executor " + executor + " (caller, or unset for the common pool)");
            System.exit(2);
        }
        if (bound > 0) program += "-" + bound;
        if (callerRuns) program += "-caller";
        if (!workload.equals("R90") && !workload.equals("R50") && !workload.equals("Z90")) {
            System.err.println("unknown workload " + workload);
            System.exit(2);
        }
        String[] keys = makeKeys();

        // The load leaves the common pool's maintenance pending; cleanUp() finishes it, untimed.
        Cache<String, byte[]> cache = load(keys, bound, callerRuns);
        long loaded = cache.estimatedSize();
        cache.cleanUp();
        long readPct = workload.equals("R50") ? 50 : 90;
        int warmOps = ops / 5;
        int[][] samples = new int[threads][];
        int[][] warmSamples = new int[threads][];
        if (workload.equals("Z90")) {
            double[] cdf = zipfCdf();
            for (int t = 0; t < threads; t++) {
                samples[t] = zipfSamples(cdf, ops, 424242 + t);
                warmSamples[t] = java.util.Arrays.copyOf(samples[t], warmOps);
            }
        }
        runThreads(threads, t -> mixed(cache, keys, warmOps, readPct, 67890 + t, warmSamples[t]));
        READS.set(0);
        long[] res = runThreads(threads, t -> mixed(cache, keys, ops, readPct, 12345 + t, samples[t]));
        long done = (long) ops * threads;
        long reads = READS.get();
        if (bound == 0 && res[1] != 0) {
            System.err.println("misses: " + res[1]);
            System.exit(1);
        }
        if (bound > 0) {
            long after = cache.estimatedSize();
            cache.cleanUp();
            System.out.printf("# bounded at %d: %d entries after the load, %d after the timed round, %d after cleanUp;"
                    + " misses %d of %d reads (%.1f%%), %d operations%n",
                bound, loaded, after, cache.estimatedSize(), res[1], reads, 100.0 * res[1] / Math.max(reads, 1), done);
        }
        System.out.printf("# %s %s %d: %d ops in %.3f s%n", program, workload, threads, done, res[0] / 1e9);
        report(workload, threads, done / (res[0] / 1e9));
    }
}
