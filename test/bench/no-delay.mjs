// A diagnostic for `npm run bench -- --nodelay`, preloaded into every service process with
// `--import`: every TCP socket the process opens turns Nagle's algorithm off (TCP_NODELAY), so a
// comparison with a plain run shows how much latency small writes spend waiting for delayed ACKs.
// Not a fix: the product decides per socket.
import net from 'node:net';

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectWithoutNagle(...args) {
  this.setNoDelay(true);
  return connect.apply(this, args);
};
