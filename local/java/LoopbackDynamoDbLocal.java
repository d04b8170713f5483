import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local with its own command line, listening on 127.0.0.1 only.
 *
 * <p>DynamoDB Local has no option for the address it listens on: its server is a Jetty {@code Server(port)}, which
 * accepts connections on every interface. This launcher builds the server exactly as DynamoDB Local's
 * {@code ServerRunner.main} does ({@code createServerFromCommandLineArgs}), sets the host of its one connector to the
 * loopback address, and starts it. It leaves out what {@code main} adds around that: the usage text and telemetry
 * (the runtime always passes {@code -disableTelemetry}). Run it in Java's source-file mode with DynamoDB Local's jar
 * and libraries on the class path (local/src/services/dynamodb-local.ts).
 *
 * <p>Any change in DynamoDB Local that this relies on (the private {@code server} field, one {@code ServerConnector})
 * stops the start with a message naming it, rather than serving on every interface.
 */
public class LoopbackDynamoDbLocal {
  static final String LOOPBACK = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field;
    try {
      field = DynamoDBProxyServer.class.getDeclaredField("server");
    } catch (NoSuchFieldException missing) {
      throw new IllegalStateException(
          "this DynamoDB Local has no DynamoDBProxyServer.server field: cannot bind it to " + LOOPBACK, missing);
    }
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local's server has no connector to bind");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector))
        throw new IllegalStateException(
            "DynamoDB Local's connector is a " + connector.getClass().getName() + ", not a ServerConnector");
      ((ServerConnector) connector).setHost(LOOPBACK);
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on " + LOOPBACK + " only");
  }
}
