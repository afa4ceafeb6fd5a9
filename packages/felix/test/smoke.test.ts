import { expect } from "chai";
describe("felix package", () => { it("loads", async () => { expect(await import("@tabby/felix")).to.not.equal(undefined); }); });
