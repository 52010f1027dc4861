// Places keys with spymemcached's own KetamaNodeLocator, for live parity
// tests. No server is contacted: nodes are stand-ins that only report their
// address.
//
// usage: java -cp spymemcached.jar:DIR SpyPlace INPUT
// INPUT lines:
//   servers MAP SPEC,SPEC,...   MAP is 1 to pass a weights map, else 0.
//                               SPEC: ip:port:weight, [v6]:port:weight or
//                               host/ip:port:weight (a resolved host name)
//   key HEX                     a UTF-8 key in hex; prints the server's index
import java.io.BufferedReader;
import java.io.FileReader;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import net.spy.memcached.DefaultHashAlgorithm;
import net.spy.memcached.KetamaNodeKeyFormatter;
import net.spy.memcached.KetamaNodeLocator;
import net.spy.memcached.MemcachedNode;

public final class SpyPlace {
  private static MemcachedNode node(final InetSocketAddress addr) {
    return (MemcachedNode) Proxy.newProxyInstance(
        MemcachedNode.class.getClassLoader(), new Class<?>[] {MemcachedNode.class},
        (proxy, method, args) -> {
          switch (method.getName()) {
            case "getSocketAddress": return addr;
            case "hashCode": return System.identityHashCode(proxy);
            case "equals": return proxy == args[0];
            case "toString": return "node " + addr;
            default: return null;
          }
        });
  }

  private static InetSocketAddress address(String spec, int[] weight) throws Exception {
    int last = spec.lastIndexOf(':');
    weight[0] = Integer.parseInt(spec.substring(last + 1));
    String hostPort = spec.substring(0, last);
    int colon = hostPort.lastIndexOf(':');
    int port = Integer.parseInt(hostPort.substring(colon + 1));
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[")) host = host.substring(1, host.length() - 1);
    int slash = host.indexOf('/');
    if (slash >= 0) {  // a host name with its address: no DNS lookup
      InetAddress ip = InetAddress.getByName(host.substring(slash + 1));
      return new InetSocketAddress(InetAddress.getByAddress(host.substring(0, slash), ip.getAddress()), port);
    }
    return new InetSocketAddress(InetAddress.getByName(host), port);
  }

  private static byte[] unhex(String h) {
    byte[] out = new byte[h.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    return out;
  }

  public static void main(String[] argv) throws Exception {
    StringBuilder out = new StringBuilder();
    KetamaNodeLocator locator = null;
    Map<MemcachedNode, Integer> index = new IdentityHashMap<>();
    try (BufferedReader in = new BufferedReader(new FileReader(argv[0], StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] parts = line.split(" ");
        if (parts[0].equals("servers")) {
          boolean useMap = parts[1].equals("1");
          List<MemcachedNode> nodes = new ArrayList<>();
          Map<InetSocketAddress, Integer> weights = new HashMap<>();
          index.clear();
          for (String spec : parts[2].split(",")) {
            int[] w = new int[1];
            InetSocketAddress a = address(spec, w);
            MemcachedNode n = node(a);
            index.put(n, nodes.size());
            nodes.add(n);
            if (useMap) weights.put(a, w[0]);
          }
          locator = new KetamaNodeLocator(nodes, DefaultHashAlgorithm.KETAMA_HASH,
                                          KetamaNodeKeyFormatter.Format.SPYMEMCACHED, weights);
        } else if (parts[0].equals("key")) {
          String key = new String(unhex(parts[1]), StandardCharsets.UTF_8);
          out.append(index.get(locator.getPrimary(key))).append('\n');
        }
      }
    }
    System.out.print(out);
  }
}
