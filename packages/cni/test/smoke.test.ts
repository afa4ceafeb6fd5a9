import { expect } from "chai";
describe("cni package", () => { it("loads", async () => { expect(await import("@tabby/cni")).to.not.equal(undefined); }); });
