import type { VirtualService } from "../../src/resource-model/virtual-service.js";

/** The director tests' service: weights 3, 2, 1 (the third without a check) and a sorry server. */
export const WEB: VirtualService = {
  family: 4,
  address: "198.18.0.100",
  port: 80,
  protocol: "tcp",
  scheduler: "wrr",
  realServers: [
    { address: "198.18.1.11", port: 8080, weight: 3, check: "web1" },
    { address: "198.18.1.12", port: 8080, weight: 2, check: "web2" },
    { address: "198.18.1.13", port: 80, weight: 1 },
  ],
  sorryServer: { address: "198.18.1.19", port: 8080 },
  masquerade: false,
  backend: "auto",
};
