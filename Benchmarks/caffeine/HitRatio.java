// Replays cache traces through Caffeine and prints its hit ratios in kvs-hitratio's format
// (scripts/bench-hit-ratio.sh compiles and runs it against Debian's caffeine.jar).
//
// Usage: java -cp caffeine.jar:. HitRatio [--sizes 1,5,10,25,50] TRACE.gz...
// Prints one tab-separated line a run: trace, capacity, percent of distinct keys, "Caffeine",
// 1, hits, accesses, hit ratio (%).

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

public final class HitRatio {
    public static void main(String[] args) throws Exception {
        int[] sizes = {1, 5, 10, 25, 50};
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--sizes")) {
                String[] parts = args[++i].split(",");
                sizes = new int[parts.length];
                for (int j = 0; j < parts.length; j++) sizes[j] = Integer.parseInt(parts[j]);
            } else {
                paths.add(args[i]);
            }
        }
        for (String path : paths) {
            long[] trace = load(path);
            HashSet<Long> distinctKeys = new HashSet<>();
            for (long key : trace) distinctKeys.add(key);
            int distinct = distinctKeys.size();
            String name = path.substring(path.lastIndexOf('/') + 1).replace(".trace.gz", "");
            for (int percent : sizes) {
                int capacity = Math.max(1, distinct * percent / 100);
                long hits = replay(trace, capacity);
                System.out.println(String.join("\t", name, Integer.toString(capacity), Integer.toString(percent),
                        "Caffeine", "1", Long.toString(hits), Integer.toString(trace.length),
                        String.format(Locale.ROOT, "%.2f", 100.0 * hits / trace.length)));
            }
        }
    }

    /// A read that finds the key is a hit; a miss inserts it. Maintenance runs on the calling
    /// thread (Caffeine's simulator does the same), so the bound holds after every write.
    static long replay(long[] trace, int capacity) {
        Cache<Long, Long> cache = Caffeine.newBuilder()
                .maximumSize(capacity)
                .initialCapacity(capacity)
                .executor(Runnable::run)
                .build();
        long hits = 0;
        for (long key : trace) {
            Long boxed = key;
            if (cache.getIfPresent(boxed) != null) {
                hits++;
            } else {
                cache.put(boxed, boxed);
                cache.cleanUp();
            }
        }
        return hits;
    }

    static long[] load(String path) throws Exception {
        long[] keys = new long[1 << 16];
        int count = 0;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(new FileInputStream(path), 1 << 16), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = reader.readLine()) != null) {
                line = line.trim();
                if (line.isEmpty()) continue;
                if (count == keys.length) keys = java.util.Arrays.copyOf(keys, count * 2);
                keys[count++] = Long.parseLong(line);
            }
        }
        return java.util.Arrays.copyOf(keys, count);
    }
}
