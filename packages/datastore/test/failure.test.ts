// How etcd client failures are described (pure): the cause a user can act on, not gRPC's noise.
import { expect } from 'chai';
import { describeFailure, neverSent } from '@tabby/datastore';

class GRPCUnavailableError extends Error {}
class GRPCDeadlineExceededError extends Error {}
class EtcdAuthenticationFailedError extends Error {}

const unavailable = (last: string) =>
  new GRPCUnavailableError(`14 UNAVAILABLE: No connection established. Last error: ${last} (2026-11-22T13:09:15.295Z). Resolution note: `);

describe('etcd failure descriptions (pure)', () => {
  it('names the socket-level cause inside gRPC UNAVAILABLE', () => {
    expect(describeFailure(unavailable('Error: connect ECONNREFUSED 127.0.0.1:1'), 5000)).to.deep.equal({ kind: 'transport', cause: 'connection refused' });
    expect(describeFailure(unavailable('Error: getaddrinfo ENOTFOUND etcd.example'), 5000).cause).to.equal('host name not found');
    expect(describeFailure(unavailable('Error: connect EHOSTUNREACH 10.0.0.1:2379'), 5000).cause).to.equal('host unreachable');
    expect(describeFailure(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'), 5000).cause).to.equal('connection lost');
  });

  it('explains TLS failures', () => {
    expect(describeFailure(unavailable('80CC82B7587F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n'), 5000).cause)
      .to.match(/^TLS handshake failed: the server did not accept our client certificate/);
    expect(describeFailure(unavailable('Error: unable to verify the first certificate'), 5000).cause)
      .to.equal("TLS: the server's certificate is not trusted (unable to verify the first certificate); check the CA certificate");
    expect(describeFailure(unavailable('Error: Client network socket disconnected before secure TLS connection was established'), 5000).cause)
      .to.match(/does not speak TLS here/);
    expect(describeFailure(unavailable('Failed to connect'), 5000).cause).to.match(/must start with https:\/\//);
  });

  it('reports deadlines with the budget, and authentication separately', () => {
    expect(describeFailure(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded after 5.000s'), 2500))
      .to.deep.equal({ kind: 'transport', cause: 'no answer within 2.5 s' });
    expect(describeFailure(new EtcdAuthenticationFailedError('etcdserver: authentication failed, invalid user ID or password'), 5000).kind).to.equal('auth');
    expect(describeFailure(new Error('etcdserver: user name is empty'), 5000).cause).to.match(/^authentication required/);
    expect(describeFailure(new Error('something else\nmore'), 5000)).to.deep.equal({ kind: 'other', cause: 'something else' });
  });

  it('retries only requests that never left', () => {
    expect(neverSent(unavailable('Error: connect ECONNREFUSED 127.0.0.1:1'))).to.equal(true);
    expect(neverSent(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'))).to.equal(false);
    expect(neverSent(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'))).to.equal(false);
  });
});
