/**
 * Where a group/broadcast socket binds. Several such sockets share a port (reuseAddr), and one
 * bound to 0.0.0.0 receives every datagram for that port from every interface: with two mcast or
 * bcast links on the same port, each link would also hear the other's frames and report a dead
 * path as alive. Linux lets a socket bind to a multicast group or a subnet's broadcast address
 * and then delivers only datagrams sent to that address, and still sends from the interface's
 * own address. Other systems fall back to 0.0.0.0.
 */
export function receiveAddress(destination: string, platform: NodeJS.Platform): string {
  return platform === "linux" ? destination : "0.0.0.0";
}
