import { expect } from "chai";
describe("ipam package", () => { it("loads", async () => { expect(await import("@tabby/ipam")).to.not.equal(undefined); }); });
