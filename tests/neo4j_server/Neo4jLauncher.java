import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Starts Neo4j Community in process (test harness), prints its Bolt URI on stdout, and stops
 * when stdin closes, so the server never outlives the test session that started it. Its working
 * directory goes with it.
 */
public class Neo4jLauncher {
    public static void main(String[] args) throws Exception {
        Path workDir = Files.createTempDirectory("crossforce-neo4j");
        Neo4j neo4j = Neo4jBuilders.newInProcessBuilder(workDir)
                .withDisabledServer()
                .withConfig(GraphDatabaseSettings.transaction_timeout, java.time.Duration.ofSeconds(60))
                .build();
        System.out.println("BOLT " + neo4j.boltURI());
        System.out.flush();
        while (System.in.read() != -1) {
            // Keep running until the parent closes our stdin (or dies).
        }
        neo4j.close();
        try (Stream<Path> paths = Files.walk(workDir)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
