import { createHash, randomInt } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { AuthInfo, TokenProvider } from "@etcd-ts/auth";
import {
  AuthStore,
  createTokenProvider,
  hashPassword,
  isAuthError,
  levelAuthReader,
  parseGoDurationMs,
} from "@etcd-ts/auth";
import { Lessor, LessorDriver, LevelLeaseBackend, minLeaseTtlSeconds } from "@etcd-ts/lease";
import { checkPutRequest, checkTxnRequest, type KvStore, levelBackend, WatchableStore } from "@etcd-ts/mvcc";
import { etcdApiServices } from "@etcd-ts/proto";
import type * as pb from "@etcd-ts/proto/etcdserverpb";
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  Auth,
  AuthenticateResponseSchema,
  Cluster,
  KV,
  Lease,
  LeaseLeasesResponseSchema,
  LeaseTimeToLiveResponseSchema,
  Maintenance,
  MemberAddResponseSchema,
  MemberListResponseSchema,
  MemberPromoteResponseSchema,
  MemberRemoveResponseSchema,
  type MemberSchema,
  MemberUpdateResponseSchema,
  RangeRequestSchema,
  ResponseHeaderSchema,
  SnapshotResponseSchema,
  StatusResponseSchema,
  Watch,
} from "@etcd-ts/proto/etcdserverpb";
import { Health } from "@etcd-ts/proto/health";
import { Peer, type PeerHeader } from "@etcd-ts/proto/internal/peer";
import { type InternalRequest, InternalRequestSchema } from "@etcd-ts/proto/internal/request";
import { Election } from "@etcd-ts/proto/v3electionpb";
import { Lock } from "@etcd-ts/proto/v3lockpb";
import {
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  encodeConfChange,
  type HardState,
  MemoryStorage,
  ProposalDroppedError,
  RawNode,
  type Snapshot,
} from "@etcd-ts/raft";
import { type RaftSnapshot, SnapNoSnapshotError, Snapshotter, Wal } from "@etcd-ts/wal";
import pino, { type Logger } from "pino";
import { authService } from "./api/auth-service.js";
import { clusterService } from "./api/cluster-service.js";
import { withCors } from "./api/cors.js";
import { electionService } from "./api/election-service.js";
import { errorInterceptor } from "./api/error-interceptor.js";
import type { EtcdApi } from "./api/etcd-api.js";
import { healthService } from "./api/health-service.js";
import { healthEndpoints } from "./api/http-endpoints.js";
import { kvService } from "./api/kv-service.js";
import { leaseService } from "./api/lease-service.js";
import { lockService } from "./api/lock-service.js";
import { maintenanceService } from "./api/maintenance-service.js";
import type { RequestContext } from "./api/request-context.js";
import { type ClientServices, createClientHandler } from "./api/router.js";
import { staticUi } from "./api/static-ui.js";
import { WatchHub } from "./api/watch-hub.js";
import { watchService } from "./api/watch-service.js";
import { AppliedIndex } from "./applied-index.js";
import { AlarmStore } from "./apply/alarm-store.js";
import { Applier, type ApplyResult } from "./apply/applier.js";
import { assert } from "./assert.js";
import { Backend, type BackendWrite } from "./backend.js";
import { limits, parseUrl, type ServerConfig, validateConfig } from "./config.js";
import { EtcdError, errors } from "./errors.js";
import { Listener, type RequestHandler, type TlsOptions } from "./http/listener.js";
import { autoTlsFiles, cipherList } from "./http/tls-config.js";
import { IdGenerator } from "./id-generator.js";
import {
  clusterIdOf,
  decodeMember,
  encodeMember,
  type MemberInfo,
  memberIdOf,
  memberKey,
  parseInitialCluster,
  removedMemberId,
  removedMemberKey,
} from "./membership.js";
import { instrumentService, ServerMetrics } from "./metrics.js";
import { fetchClusterInfo } from "./peer/cluster-info.js";
import { type PeerApi, peerService } from "./peer/peer-service.js";
import { type PeerTlsOptions, PeerTransport, peerClient, transportLimits } from "./peer/transport.js";
import { RaftNode } from "./raft-node.js";
import { ReadIndexBatcher } from "./read-index.js";
import { checkDeleteRangeRequest, checkRangeRequest } from "./request-limits.js";
import { writeBoltFile } from "./snapshot/bolt-file.js";
import { etcdBuckets } from "./snapshot/etcd-layout.js";
import { Wait } from "./wait.js";

/** How long stop() lets requests in flight finish before it closes their connections. */
const stopGraceMs = 1000;
/** Raft snapshot files kept in member/snap. */
const maxSnapshotFiles = 5;
/**
 * maxEntriesPerBackendWrite bounds how many committed kv-write entries share one backend batch (they stay
 * pending in mvcc until it is written; mvcc's own bound, MAX_PENDING_WRITES, is higher).
 */
const maxEntriesPerBackendWrite = 1024;

/** How long every voter must have been connected before a membership change (etcd's HealthInterval). */
const healthIntervalMs = 5000;
/** How often a membership change checks whether raft has caught up with what this member applied. */
const raftAppliedPollMs = 5;
/** A learner may be promoted once its log reaches this fraction of the leader's. */
const learnerReadyPercent = 0.9;
function sameUrlSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");
}

/** The cluster version recorded in snapshots (etcd's `cluster` bucket). */
const clusterVersion = "3.6.0";

/** The version this member reports (the etcd API version it implements). */
export const serverVersion = "3.6.0";

/**
 * EtcdServer is one member: it owns the data dir (WAL + backend), drives raft, applies committed entries
 * to mvcc, lease and auth through one atomic backend write per entry, and implements the etcd v3 API
 * (EtcdApi) on top: writes are proposed through raft and answered when applied; linearizable reads wait
 * for a read index; serializable reads are local.
 *
 * `new EtcdServer(config)` only builds; `start()` opens the data dir and starts raft.
 */
export class EtcdServer implements EtcdApi {
  readonly config: ServerConfig;
  logger: Logger;

  #backend!: Backend;
  #wal!: Wal;
  #raft!: RaftNode;
  #kv!: KvStore;
  #store!: WatchableStore;
  #lessor!: Lessor;
  #lessorDriver!: LessorDriver;
  #auth!: AuthStore;
  #alarms!: AlarmStore;
  #applier!: Applier;
  #applied!: AppliedIndex;
  #reads!: ReadIndexBatcher;
  #ids!: IdGenerator;
  readonly #wait = new Wait<ApplyResult>(limits.maxPendingProposals);
  readonly #members = new Map<bigint, MemberInfo>();
  /** Members removed from the cluster (their messages are refused; their ids never come back). */
  readonly #removed = new Set<bigint>();
  /** The members a joining member learned from its peers (until the leader's log or snapshot arrives). */
  readonly #joinMembers = new Map<bigint, MemberInfo>();
  #tokenProvider: TokenProvider | null | undefined;
  #transport!: PeerTransport;
  readonly #peerListeners: Listener[] = [];
  #snapDir = "";
  /** A member was added: take a raft snapshot after this apply, so the newcomer can catch up from one. */
  #snapshotWanted = false;
  #publishTimer: NodeJS.Timeout | undefined;
  #hashCheckTimer: NodeJS.Timeout | undefined;
  #metrics!: ServerMetrics;
  /** Certificate files in use (the flags', or generated ones with --auto-tls / --peer-auto-tls). */
  #clientCertFiles = { certFile: "", keyFile: "" };
  #peerCertFiles = { certFile: "", keyFile: "" };
  readonly #metricsListeners: Listener[] = [];
  #lastHashChecked = 0n;

  #memberId = 0n;
  #clusterId = 0n;
  #term = 0;
  #leader = 0n;
  #consistentIndex = 0;
  #confState: ConfState = {
    voters: [],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
  #snapshotIndex = 0;
  #snapshotter!: Snapshotter;
  #started = false;
  #stopped = false;
  #stopping = false;
  #campaignedAlone = false;
  #promoteAtTerm: number | undefined;
  #fatal: ((err: unknown) => void) | undefined;
  #compactionTimer: NodeJS.Timeout | undefined;
  #sizeTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #dbSizeBytes = 0;
  /** Bytes written since the size was last sampled (so a burst between samples still hits the quota). */
  #writtenBytes = 0;
  #raisingNoSpace = false;
  readonly #listeners: Listener[] = [];
  #watchHub: WatchHub | undefined;

  constructor(config: ServerConfig, options: { onFatal?: (err: unknown) => void } = {}) {
    validateConfig(config);
    this.config = config;
    this.#fatal = options.onFatal;
    // JSON lines shaped like etcd's zap logs: {"level":"info","ts":"…","msg":"…", …fields}.
    this.logger = pino(
      {
        level: config.logLevel,
        base: { name: config.name },
        messageKey: "msg",
        formatters: { level: (label) => ({ level: label }) },
        timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      },
      pino.destination({ dest: 2, sync: true }),
    );
  }

  /** memberId is this member's id (known after start). */
  get memberId(): bigint {
    return this.#memberId;
  }

  /** clusterId is the cluster's id (known after start). */
  get clusterId(): bigint {
    return this.#clusterId;
  }

  /** isLeader tells whether this member is the raft leader now. */
  get isLeader(): boolean {
    return this.#leader !== 0n && this.#leader === this.#memberId;
  }

  /** leader is the current leader's id, 0n when there is none. */
  get leader(): bigint {
    return this.#leader;
  }

  /** kv is the member's mvcc store (for the watch service). */
  get kv(): KvStore {
    return this.#kv;
  }

  /** appliedIndex is the last applied raft index. */
  get appliedIndex(): number {
    return this.#applied.value;
  }

  // ---------------------------------------------------------------------------------------------------
  // Lifecycle

  /** start opens (or creates) the data dir, recovers state, and starts raft. */
  async start(): Promise<void> {
    assert(!this.#started, "server already started");
    this.#started = true;
    const memberDir = path.join(this.config.dataDir, "member");
    const walDir = this.config.walDir === "" ? path.join(memberDir, "wal") : this.config.walDir;
    const snapDir = path.join(memberDir, "snap");
    for (const dir of [this.config.dataDir, memberDir, walDir, snapDir]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }

    await this.#resolveCertificates();

    // Identity: member id from our peer URLs and the cluster token; cluster id from the initial members.
    const initial = parseInitialCluster(
      this.config.initialCluster,
      this.config.name,
      this.config.initialAdvertisePeerUrls,
    );
    const alone = initial.size === 1;
    const initialMembers: MemberInfo[] = [...initial].map(([name, peerUrls]) => ({
      id: memberIdOf(peerUrls, this.config.initialClusterToken),
      name,
      peerUrls,
      // Every member writes the same bootstrap entries, so only a lone member can put its client URLs
      // there; the others publish theirs once they run (MemberAttributesSet).
      clientUrls: alone ? this.config.advertiseClientUrls : [],
      isLearner: false,
    }));
    const self = initialMembers.find((m) => m.name === this.config.name);
    assert(self !== undefined, "parseInitialCluster includes this member");

    this.#backend = new Backend(path.join(snapDir, "db"));
    await this.#backend.open();

    const storage = new MemoryStorage();
    let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
    this.#snapshotter = new Snapshotter(snapDir);
    this.#snapDir = snapDir;
    if (await Wal.exists(walDir)) {
      // Start from the newest raft snapshot the WAL has a marker for (entries before it were released).
      const markers = await Wal.readSnapshotMarkers(walDir);
      let snapshot: RaftSnapshot | undefined;
      try {
        snapshot = await this.#snapshotter.loadNewestAvailable(markers);
      } catch (err) {
        if (!(err instanceof SnapNoSnapshotError)) throw err;
      }
      if (snapshot !== undefined) {
        storage.applySnapshot(snapshot);
        this.#snapshotIndex = snapshot.metadata.index;
        this.#confState = snapshot.metadata.confState;
        // A snapshot received from the leader whose backend was not (fully) installed: install it now.
        const ci = await this.#backend.consistentIndex();
        if (ci.index < snapshot.metadata.index) {
          const file = this.snapshotFile(snapshot.metadata.index);
          if (!fs.existsSync(file)) {
            throw new Error(
              `the backend (applied index ${ci.index}) is behind the raft snapshot (${snapshot.metadata.index}) and ${file} is missing; rebuild this member from its peers`,
            );
          }
          this.logger.info({ index: snapshot.metadata.index }, "installing a received snapshot");
          await this.#backend.restoreFrom(file);
        }
      }
      this.#wal = await Wal.open(walDir, {
        index: snapshot?.metadata.index ?? 0,
        term: snapshot?.metadata.term ?? 0,
      });
      const recovered = await this.#wal.readAll();
      this.#memberId = recovered.metadata.memberId;
      this.#clusterId = recovered.metadata.clusterId;
      if (this.#memberId !== self.id && this.config.initialClusterState === "new") {
        this.logger.warn(
          { walMember: this.#memberId.toString(16), flags: self.id.toString(16) },
          "member id in the WAL differs from the one the flags give; using the WAL's",
        );
      }
      hardState = recovered.hardState;
      storage.setHardState(hardState);
      storage.append(recovered.entries);
      this.logger.info(
        { entries: recovered.entries.length, commit: hardState.commit, term: hardState.term },
        "recovered the WAL",
      );
    } else if (this.config.initialClusterState === "existing") {
      // Joining a running cluster (after `member add`): learn its id and our member id from the peers;
      // the leader then sends us its log or a snapshot.
      const peers = [...initial].filter(([name]) => name !== this.config.name).flatMap(([, urls]) => urls);
      const info = await fetchClusterInfo(peers, this.#peerTls(), this.logger);
      const mine = info.members.find((m) => sameUrlSet(m.peerUrls, this.config.initialAdvertisePeerUrls));
      if (mine === undefined) {
        throw new Error(
          `this member's peer URLs (${this.config.initialAdvertisePeerUrls.join(",")}) are not in the cluster; run "member add" first`,
        );
      }
      this.#memberId = mine.id;
      this.#clusterId = info.clusterId;
      for (const member of info.members) this.#joinMembers.set(member.id, member);
      this.#wal = await Wal.create(walDir, { memberId: this.#memberId, clusterId: this.#clusterId });
      this.logger.info(
        { memberId: this.#memberId.toString(16), clusterId: this.#clusterId.toString(16) },
        "joining an existing cluster",
      );
    } else {
      this.#memberId = self.id;
      this.#clusterId = clusterIdOf(initialMembers.map((m) => m.id));
      if (!alone) await this.#checkPeersCluster(initialMembers);
      this.#wal = await Wal.create(walDir, { memberId: this.#memberId, clusterId: this.#clusterId });
      // Bootstrap: the initial members enter through committed conf-change entries at term 1, as raft
      // does for a new cluster, so that a restart replays them from the WAL like any other entry.
      const sorted = [...initialMembers].sort((a, b) => (a.id < b.id ? -1 : 1));
      const entries: Entry[] = sorted.map((member, i) => ({
        term: 1,
        index: i + 1,
        type: EntryType.ConfChange,
        data: encodeConfChange({
          id: 0n,
          type: ConfChangeType.AddNode,
          nodeId: member.id,
          context: encodeMember(member),
        }),
      }));
      hardState = { term: 1, vote: 0n, commit: entries.length };
      await this.#wal.save(hardState, entries);
      storage.setHardState(hardState);
      storage.append(entries);
    }
    this.#term = hardState.term;
    this.logger = this.logger.child({ "local-member-id": this.#memberId.toString(16) });

    await this.#openStores();
    this.#metrics = new ServerMetrics({
      hasLeader: () => this.#leader !== 0n,
      isLeader: () => this.isLeader,
      isLearner: () => this.isLearner,
      committedIndex: () => this.#raft?.committed ?? 0,
      appliedIndex: () => this.#applied?.value ?? 0,
      pendingProposals: () => this.#wait.size,
      dbSizeBytes: () => this.#dbSizeBytes,
      quotaBytes: () => this.#quotaBytes(),
      currentRevision: () => Number(this.#kv.currentRevision),
      compactRevision: () => Number(this.#kv.compactRevision),
      watchers: () => this.#store.syncedCount + this.#store.unsyncedCount,
      memberId: () => this.#memberId.toString(16),
      version: () => serverVersion,
    });
    this.#dbSizeBytes = await this.#backend.sizeBytes();
    this.#sizeTimer = setInterval(() => {
      void this.#backend.sizeBytes().then((size) => {
        this.#dbSizeBytes = size;
        this.#writtenBytes = 0;
      });
    }, 1000);
    this.#sizeTimer.unref();

    const ci = await this.#backend.consistentIndex();
    this.#consistentIndex = ci.index;
    this.#applied = new AppliedIndex(this.#snapshotIndex);
    this.#ids = new IdGenerator(this.#memberId, Date.now());

    const electionTick = Math.max(
      2,
      Math.round(this.config.electionTimeoutMs / this.config.heartbeatIntervalMs),
    );
    const rawNode = new RawNode({
      id: this.#memberId,
      electionTick,
      heartbeatTick: 1,
      storage,
      applied: this.#snapshotIndex,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 512,
      maxUncommittedEntriesSize: 64 * 1024 * 1024,
      checkQuorum: true,
      preVote: true,
      random: (n) => randomInt(0, n),
    });
    this.#raft = new RaftNode(
      rawNode,
      storage,
      this.#wal,
      {
        send: (messages) => this.#transport.send(messages),
        saveSnapshot: (snapshot) => this.#snapshotter.save(snapshot),
        apply: (entries, snapshot) => this.#applyEntries(entries, snapshot),
        onLeaderChange: (leader, term) => this.#onLeaderChange(leader, term),
        onReadIndex: (context, index) => this.#reads.onReadIndex(context, index),
        onFatal: (err) => this.#onFatal(err),
        observeWalSave: (seconds) => this.#metrics.walFsyncSeconds.observe(seconds),
      },
      this.config.heartbeatIntervalMs,
    );
    this.#reads = new ReadIndexBatcher(
      {
        requestReadIndex: (context) => this.#raft.readIndex(context),
        nextContextId: () => this.#ids.next(),
        waitApplied: (index) => this.#applied.wait(index),
        timeoutError: () => errors.timeout(),
        leaderChangedError: () => errors.leaderChanged(),
      },
      this.#requestTimeoutMs(),
      limits.maxPendingProposals,
    );
    this.#lessorDriver = this.#newLessorDriver();
    this.#transport = new PeerTransport({
      clusterId: this.#clusterId,
      memberId: this.#memberId,
      logger: this.logger,
      tls: this.#peerTls(),
      hooks: {
        reportUnreachable: (id) => {
          this.#metrics.peerSentFailures.inc({ To: id.toString(16) });
          this.#raft.reportUnreachable(id);
        },
        observeRoundTrip: (id, seconds) =>
          this.#metrics.peerRoundTripSeconds.observe({ To: id.toString(16) }, seconds),
        reportSnapshot: (id, ok) => this.#raft.reportSnapshot(id, ok),
        snapshotData: () => this.#backend.dump(transportLimits.snapshotChunkBytes),
        onRemoved: () => this.#onRemoved(),
      },
    });
    this.#syncPeers();
    await this.#servePeers();
    this.#raft.start();
    // A restarted member that is the only voter (by its snapshot's conf state) leads at once, as etcd
    // fast-forwards its election ticks; a member with committed entries still to apply decides after them.
    if (this.#raft.rawNode.raft.raftLog.committed <= this.#raft.rawNode.raft.raftLog.applied) {
      this.#maybeCampaignAlone();
    }
    this.#lessorDriver.start();
    if (this.config.initialCorruptCheck) await this.#initialCorruptCheck();
    this.#startPublishing();
    this.#startCompactHashCheck();
    // Watchers created with progress_notify hear the current revision every interval while they are synced.
    this.#progressTimer = setInterval(
      () => this.#store.notifyProgress(),
      this.config.watchProgressNotifyIntervalMs,
    );
    this.#progressTimer.unref();
    await this.#serve();
    this.#startAutoCompaction();
    this.logger.info(
      { clusterId: this.#clusterId.toString(16), dataDir: this.config.dataDir },
      "member started",
    );
  }

  #newLessorDriver(): LessorDriver {
    return new LessorDriver(this.#lessor, {
      revoke: (ids) => {
        for (const id of ids) {
          void this.#propose(
            { case: "leaseRevoke", value: { ID: id } as unknown as pb.LeaseRevokeRequest },
            undefined,
          ).catch((err: unknown) =>
            this.logger.debug({ err, lease: id.toString(16) }, "lease revoke failed"),
          );
        }
      },
      checkpoint: (checkpoints) => {
        void this.#propose(
          {
            case: "leaseCheckpoint",
            value: {
              checkpoints: checkpoints.map((c) => ({
                id: c.id,
                remainingTtl: BigInt(c.remainingTtlSeconds),
              })),
            } as never,
          },
          undefined,
        ).catch((err: unknown) => this.logger.debug({ err }, "lease checkpoint failed"));
      },
    });
  }

  /**
   * openStores builds mvcc, lease, auth, alarms and membership over the backend (on start, and again after
   * a snapshot from the leader replaced the backend's contents).
   */
  async #openStores(): Promise<void> {
    const header = (revision?: bigint) => this.#header(revision);
    this.#alarms = new AlarmStore();
    const metaKeys: Uint8Array[] = [];
    for await (const key of this.#backend.sublevel("meta").keys()) metaKeys.push(key as Uint8Array);
    this.#alarms.load(metaKeys);
    this.#members.clear();
    this.#removed.clear();
    for await (const [key, value] of this.#backend.sublevel("members").iterator()) {
      const k = key as Uint8Array;
      const removed = removedMemberId(k);
      if (removed !== undefined) {
        this.#removed.add(removed);
      } else if (k.length === 8) {
        const member = decodeMember(value as Uint8Array);
        this.#members.set(member.id, member);
      }
    }
    if (this.#members.size === 0) for (const [id, member] of this.#joinMembers) this.#members.set(id, member);
    this.#lessor = await Lessor.open(new LevelLeaseBackend(this.#backend.db as never), {
      clock: { now: () => Date.now() },
      minTtlSeconds: minLeaseTtlSeconds(this.config.electionTimeoutMs),
    });
    const kvBackend = levelBackend(this.#backend.sublevel("kv") as never);
    if (this.#store === undefined) {
      this.#store = await WatchableStore.open({
        backend: kvBackend,
        maxTxnOps: this.config.maxTxnOps,
        leaseExists: (lease) => this.#lessor.lookup(lease) !== undefined,
      });
    } else {
      await this.#store.restore(kvBackend);
    }
    this.#kv = this.#store.kv;
    await this.#reattachLeases();
    if (this.#tokenProvider === undefined) {
      this.#tokenProvider =
        (await createTokenProvider(this.config.authToken, {
          now: () => Date.now(),
          random: () => randomInt(0, 2 ** 47) / 2 ** 47,
        })) ?? null;
    }
    this.#auth = await AuthStore.open(
      levelAuthReader(this.#backend.sublevel("auth") as never),
      this.#tokenProvider === null ? {} : { tokenProvider: this.#tokenProvider },
    );
    this.#applier = new Applier({
      kv: this.#kv,
      lessor: this.#lessor,
      auth: this.#auth,
      alarms: this.#alarms,
      header,
      quotaExceeded: () => this.#dbSizeBytes > this.#quotaBytes(),
      onQuotaExceeded: () => this.#raiseNoSpace(),
      setMemberAttributes: (write, attrs) => this.#applyMemberAttributes(write, attrs),
    });
  }

  async #serve(): Promise<void> {
    const hub = new WatchHub(this.#store);
    this.#watchHub = hub;
    const knownServices = new Set(etcdApiServices.map((s) => s.typeName));
    const m = this.#metrics;
    const services: ClientServices = {
      kv: instrumentService(KV, kvService(this), m),
      watch: instrumentService(Watch, watchService(this, hub), m),
      lease: instrumentService(
        Lease,
        leaseService(this, () => this.#header()),
        m,
      ),
      cluster: instrumentService(Cluster, clusterService(this), m),
      maintenance: instrumentService(Maintenance, maintenanceService(this), m),
      auth: instrumentService(Auth, authService(this), m),
      lock: instrumentService(Lock, lockService(this, hub), m),
      election: instrumentService(
        Election,
        electionService(this, hub, hub, () => this.#header()),
        m,
      ),
      health: instrumentService(
        Health,
        healthService(() => !this.#stopped && this.#leader !== 0n, knownServices),
        m,
      ),
    };
    const health = healthEndpoints({
      hasLeader: () => this.#leader !== 0n,
      alarms: () => this.#alarms.list().map((a) => AlarmType[a.alarm]),
      linearizableRead: () => this.#linearizableRead(),
      versions: () => ({ etcdserver: serverVersion, etcdcluster: "3.6.0", storage: serverVersion }),
    });
    const handler = createClientHandler(services, {
      readMaxBytes: this.config.maxRequestBytes + limits.grpcOverheadBytes,
      endpoints: [health, m.endpoint(), ...(this.config.uiDir === "" ? [] : [staticUi(this.config.uiDir)])],
    });
    // --listen-metrics-urls: /metrics and the health endpoints on a port of their own.
    const metricsOnly: RequestHandler = (req, res) => {
      if (m.endpoint()(req, res) || health(req, res)) return;
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found\n");
    };
    for (const url of this.config.listenMetricsUrls) {
      const { protocol, host, port } = parseUrl(url);
      const listener = new Listener(metricsOnly, protocol === "https:" ? this.#tlsOptions() : undefined);
      await listener.listen(host, port);
      this.#metricsListeners.push(listener);
      this.logger.info({ host, port: listener.port }, "serving metrics");
    }
    for (const { protocol, host, port } of this.clientListenAddresses()) {
      const listener = new Listener(
        withCors(this.config.corsOrigins, handler),
        protocol === "https:" ? this.#tlsOptions() : undefined,
      );
      await listener.listen(host, port);
      this.#listeners.push(listener);
      this.logger.info({ host, port: listener.port }, "serving client requests");
    }
  }

  /** resolveCertificates picks the certificate files: the flags', or generated ones with auto TLS. */
  async #resolveCertificates(): Promise<void> {
    const days = 365 * this.config.selfSignedCertValidity;
    const hosts = (urls: readonly string[]) => [
      ...new Set(["localhost", ...urls.map((u) => parseUrl(u).host)]),
    ];
    this.#clientCertFiles =
      this.config.autoTls && this.config.certFile === ""
        ? await autoTlsFiles(
            this.config.dataDir,
            "client",
            hosts([...this.config.listenClientUrls, ...this.config.advertiseClientUrls]),
            days,
          )
        : { certFile: this.config.certFile, keyFile: this.config.keyFile };
    this.#peerCertFiles =
      this.config.peerAutoTls && this.config.peerCertFile === ""
        ? await autoTlsFiles(
            this.config.dataDir,
            "peer",
            hosts([...this.config.listenPeerUrls, ...this.config.initialAdvertisePeerUrls]),
            days,
          )
        : { certFile: this.config.peerCertFile, keyFile: this.config.peerKeyFile };
  }

  #tlsOptions(): TlsOptions {
    const ciphers = cipherList(this.config.cipherSuites);
    return {
      cert: fs.readFileSync(this.#clientCertFiles.certFile),
      key: fs.readFileSync(this.#clientCertFiles.keyFile),
      ...(this.config.trustedCaFile === "" ? {} : { ca: fs.readFileSync(this.config.trustedCaFile) }),
      requestCert: this.config.clientCertAuth,
      minVersion: this.config.tlsMinVersion === "TLS1.3" ? "TLSv1.3" : "TLSv1.2",
      handshakeTimeoutMs: 10_000,
      ...(this.config.clientCrlFile === "" ? {} : { crl: fs.readFileSync(this.config.clientCrlFile) }),
      ...(ciphers === undefined ? {} : { ciphers }),
    };
  }

  /** clientPorts are the bound client ports (useful with port 0). */
  get clientPorts(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  /** stop stops raft, fails pending requests, and closes the data dir. */
  async stop(): Promise<void> {
    if (this.#stopping || !this.#started) return;
    this.#stopping = true;
    // Requests in flight get up to a second to be answered; new ones are refused ("server stopped").
    await Promise.all(this.#listeners.map((listener) => listener.close(stopGraceMs)));
    this.#listeners.length = 0;
    await Promise.all(this.#metricsListeners.map((listener) => listener.close(0)));
    this.#metricsListeners.length = 0;
    this.#stopped = true;
    this.#watchHub?.close();
    if (this.#compactionTimer !== undefined) clearInterval(this.#compactionTimer);
    if (this.#sizeTimer !== undefined) clearInterval(this.#sizeTimer);
    if (this.#progressTimer !== undefined) clearInterval(this.#progressTimer);
    if (this.#publishTimer !== undefined) clearTimeout(this.#publishTimer);
    if (this.#hashCheckTimer !== undefined) clearInterval(this.#hashCheckTimer);
    this.#lessorDriver?.stop();
    this.logger.debug("stopping: client listeners closed");
    await this.#raft?.stop();
    this.logger.debug("stopping: raft stopped");
    this.#transport?.close();
    await Promise.all(this.#peerListeners.map((listener) => listener.close(0)));
    this.#peerListeners.length = 0;
    this.logger.debug("stopping: peer listeners closed");
    this.#wait.failAll(errors.stopped());
    this.#reads?.failAll(errors.stopped());
    await this.#wal?.close();
    await this.#backend?.close();
    this.logger.debug("stopped");
  }

  #onFatal(err: unknown): void {
    this.logger.fatal({ err }, "fatal error; the member stops");
    this.#wait.failAll(errors.stopped());
    if (this.#fatal !== undefined) this.#fatal(err);
    else {
      process.stderr.write(`etcd-ts: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  }

  async #reattachLeases(): Promise<void> {
    // The lessor keeps which keys are attached to which lease in memory; rebuild it from the kv store.
    const all = await this.#kv.range(
      create(RangeRequestSchema, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }),
    );
    for (const kv of all.kvs)
      if (kv.lease !== 0n && this.#lessor.lookup(kv.lease) !== undefined) {
        this.#lessor.attach(kv.lease, kv.key);
      }
  }

  #quotaBytes(): number {
    return this.config.quotaBackendBytes === 0
      ? limits.defaultQuotaBackendBytes
      : this.config.quotaBackendBytes;
  }

  /** raiseNoSpace activates the NOSPACE alarm through raft (once at a time), as etcd does at its quota. */
  #raiseNoSpace(): void {
    if (this.#raisingNoSpace || this.#alarms.has(AlarmType.NOSPACE)) return;
    this.#raisingNoSpace = true;
    this.logger.warn(
      { dbSizeBytes: this.#dbSizeBytes, quotaBytes: this.#quotaBytes() },
      "backend quota exceeded",
    );
    void this.#propose(
      {
        case: "alarm",
        value: {
          action: AlarmRequest_AlarmAction.ACTIVATE,
          memberID: this.#memberId,
          alarm: AlarmType.NOSPACE,
        } as never,
      },
      undefined,
    )
      .catch((err: unknown) => this.logger.warn({ err }, "could not raise the NOSPACE alarm"))
      .finally(() => {
        this.#raisingNoSpace = false;
      });
  }

  #requestTimeoutMs(): number {
    // etcd: 5 s plus two election timeouts.
    return 5000 + 2 * this.config.electionTimeoutMs;
  }

  #onLeaderChange(leader: bigint, term: number): void {
    const wasLeader = this.isLeader;
    const newLeader = leader !== 0n && leader !== this.#leader;
    if (newLeader) this.#metrics.leaderChanges.inc();
    this.#leader = leader;
    // The read index request in flight went to the old leader or was dropped: fail its reads now (etcd's
    // "leader changed", which clients retry) rather than at the request timeout.
    if (newLeader) this.#reads.onLeaderChange();
    this.#term = Math.max(this.#term, term, this.#raft?.term ?? 0);
    this.logger.info({ leader: leader.toString(16), term: this.#term }, "leader changed");
    // The lessor becomes primary only once this leader applied an entry of its own term (so it has seen
    // every revoke and checkpoint its predecessors committed); it stops at once when leadership is lost.
    if (this.isLeader && !wasLeader) this.#promoteAtTerm = this.#term;
    if (!this.isLeader) {
      this.#promoteAtTerm = undefined;
      if (this.#lessor.isPrimary) this.#lessor.demote();
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Peers

  /** snapshotFile is where a snapshot received from the leader for raft `index` is kept until installed. */
  snapshotFile(index: number): string {
    return path.join(this.#snapDir, `${index.toString(16).padStart(16, "0")}.snap.db`);
  }

  /** peerTls is how we connect to peers: our peer certificate as the client one, verified with the peer CA. */
  #peerTls(): PeerTlsOptions | undefined {
    const { certFile, keyFile } = this.#peerCertFiles;
    if (certFile === "" && this.config.peerTrustedCaFile === "") return undefined;
    return {
      ...(this.config.peerTrustedCaFile === "" ? {} : { ca: fs.readFileSync(this.config.peerTrustedCaFile) }),
      ...(certFile === "" ? {} : { cert: fs.readFileSync(certFile) }),
      ...(keyFile === "" ? {} : { key: fs.readFileSync(keyFile) }),
      // Auto-TLS peers cannot verify each other's self-signed certificates (etcd skips verification too).
      rejectUnauthorized: this.config.peerTrustedCaFile !== "",
    };
  }

  async #servePeers(): Promise<void> {
    const api: PeerApi = {
      clusterId: this.#clusterId,
      memberId: this.#memberId,
      logger: this.logger,
      isRemoved: (id) => this.#removed.has(id),
      step: (message) => {
        if (!this.#stopped) this.#raft.step(message);
      },
      heardFrom: (id) => this.#transport.heardFrom(id),
      snapshotFile: (index) => this.snapshotFile(index),
      members: () => [...this.#members.values()],
      hashKvAt: async (revision) => {
        const result = await this.#kv.hashKV(revision);
        return {
          hash: result.hash,
          compactRevision: result.compactRevision,
          hashRevision: result.hashRevision,
        };
      },
      leaseRenew: (id) => this.#leaseRenewAsLeader(id),
      leaseTimeToLive: (req) => this.#leaseTimeToLiveAsLeader(req),
      leaseLeases: () => this.#leaseLeasesAsLeader(),
      memberPromote: (id) => this.#memberPromoteAsLeader(id),
    };
    const handler = connectNodeAdapter({
      routes: (router) => router.service(Peer, peerService(api)),
      interceptors: [errorInterceptor],
      grpc: true,
      grpcWeb: false,
      connect: false,
      readMaxBytes: transportLimits.maxMessageBytes,
    }) as RequestHandler;
    for (const url of this.config.listenPeerUrls) {
      const { protocol, host, port } = parseUrl(url);
      const ciphers = cipherList(this.config.cipherSuites);
      const tls: TlsOptions | undefined =
        protocol === "https:"
          ? {
              cert: fs.readFileSync(this.#peerCertFiles.certFile),
              key: fs.readFileSync(this.#peerCertFiles.keyFile),
              ...(this.config.peerTrustedCaFile === ""
                ? {}
                : { ca: fs.readFileSync(this.config.peerTrustedCaFile) }),
              requestCert: this.config.peerClientCertAuth,
              minVersion: this.config.tlsMinVersion === "TLS1.3" ? "TLSv1.3" : "TLSv1.2",
              handshakeTimeoutMs: 10_000,
              ...(this.config.peerCrlFile === "" ? {} : { crl: fs.readFileSync(this.config.peerCrlFile) }),
              ...(ciphers === undefined ? {} : { ciphers }),
              ...(this.config.peerCertAllowedCn === ""
                ? {}
                : { allowedCommonName: this.config.peerCertAllowedCn }),
            }
          : undefined;
      const listener = new Listener(handler, tls, {
        rewriteAuthority: false,
        receiveWindowBytes: transportLimits.receiveWindowBytes,
      });
      await listener.listen(host, port);
      this.#peerListeners.push(listener);
      this.logger.info({ host, port: listener.port }, "serving peer traffic");
    }
  }

  /** syncPeers points the transport at every current member but us. */
  #syncPeers(): void {
    if (this.#transport === undefined) return;
    for (const member of this.#members.values()) {
      if (member.id !== this.#memberId) this.#transport.upsertPeer(member.id, member.peerUrls);
    }
    for (const id of this.#transport.peerIds()) if (!this.#members.has(id)) this.#transport.removePeer(id);
  }

  #onRemoved(): void {
    if (this.#stopping) return;
    this.logger.warn("this member was removed from the cluster; stopping");
    this.#onFatal(new Error("the member has been permanently removed from the cluster"));
  }

  /**
   * checkPeersCluster refuses to bootstrap a member whose peers already run another cluster (another
   * --initial-cluster-token or member list): starting would fork the data.
   */
  async #checkPeersCluster(initialMembers: MemberInfo[]): Promise<void> {
    const others = initialMembers.filter((m) => m.name !== this.config.name);
    await Promise.all(
      others.map(async (member) => {
        const url = member.peerUrls[0];
        if (url === undefined) return;
        try {
          const info = await peerClient(url, this.#peerTls()).clusterInfo(
            { header: { clusterId: 0n, fromMemberId: this.#memberId, toMemberId: 0n } },
            { timeoutMs: 1000 },
          );
          if (info.clusterId !== this.#clusterId) {
            throw new EtcdError(
              `etcdserver: cluster ID mismatch: peer ${member.name} (${url}) runs cluster ${info.clusterId.toString(16)}, this member would start ${this.#clusterId.toString(16)}; check --initial-cluster and --initial-cluster-token`,
            );
          }
        } catch (err) {
          if (err instanceof EtcdError) throw err;
          // A peer that is not up yet is fine: it checks us when it starts.
        }
      }),
    );
  }

  /**
   * initialCorruptCheck compares our HashKV at our current revision with every reachable peer's before we
   * serve clients; a difference means this member's data is not the cluster's, and it must not serve.
   */
  async #initialCorruptCheck(): Promise<void> {
    const revision = this.#kv.currentRevision;
    if (revision <= 1n) return;
    const mine = await this.#kv.hashKV(revision);
    for (const id of this.#transport.peerIds()) {
      const client = this.#transport.client(id);
      if (client === undefined) continue;
      try {
        const theirs = await client.hashKvAtRevision(
          { header: this.#transport.header(id), revision },
          { timeoutMs: 2000 },
        );
        if (theirs.compactRevision === mine.compactRevision && theirs.hash !== mine.hash) {
          throw new Error(
            `found data inconsistency with peer ${id.toString(16)} at revision ${revision} (local hash ${mine.hash}, peer hash ${theirs.hash}); rebuild this member from its peers`,
          );
        }
      } catch (err) {
        if (err instanceof Error && /data inconsistency/.test(err.message)) throw err;
        // Unreachable, behind, or compacted past the revision: nothing to compare with.
      }
    }
  }

  /**
   * startCompactHashCheck: the leader periodically compares every member's hash at the latest compaction
   * revision with its own; a mismatch raises the CORRUPT alarm for that member.
   */
  #startCompactHashCheck(): void {
    if (this.config.compactHashCheckMs === 0) return;
    this.#hashCheckTimer = setInterval(() => {
      void this.#compactHashCheck().catch((err: unknown) =>
        this.logger.debug({ err: String(err) }, "compact hash check failed"),
      );
    }, this.config.compactHashCheckMs);
    this.#hashCheckTimer.unref();
  }

  async #compactHashCheck(): Promise<void> {
    if (!this.isLeader || this.#stopped) return;
    const revision = this.#kv.compactRevision;
    if (revision <= 0n || revision === this.#lastHashChecked) return;
    const mine = await this.#kv.hashKV(revision);
    let checkedAll = true;
    for (const id of this.#transport.peerIds()) {
      const client = this.#transport.client(id);
      if (client === undefined) continue;
      let theirs: { hash: number; compactRevision: bigint } | undefined;
      try {
        theirs = await client.hashKvAtRevision(
          { header: this.#transport.header(id), revision },
          { timeoutMs: 5000 },
        );
      } catch {
        checkedAll = false;
        continue;
      }
      if (theirs.compactRevision !== revision) {
        checkedAll = false;
        continue;
      }
      if (theirs.hash !== mine.hash) {
        this.logger.error(
          { peer: id.toString(16), revision: revision.toString(), local: mine.hash, peer_hash: theirs.hash },
          "data inconsistency at a compaction revision; raising the CORRUPT alarm",
        );
        await this.#propose(
          {
            case: "alarm",
            value: {
              action: AlarmRequest_AlarmAction.ACTIVATE,
              memberID: id,
              alarm: AlarmType.CORRUPT,
            } as never,
          },
          undefined,
        );
      }
    }
    if (checkedAll) this.#lastHashChecked = revision;
  }

  /** startPublishing proposes our name and client URLs until the cluster records them (etcd's publish). */
  #startPublishing(): void {
    const attempt = () => {
      this.#publishTimer = undefined;
      if (this.#stopped) return;
      const me = this.#members.get(this.#memberId);
      const published =
        me !== undefined &&
        me.name === this.config.name &&
        sameUrlSet(me.clientUrls, this.config.advertiseClientUrls);
      if (published) return;
      if (this.#leader === 0n) {
        this.#publishTimer = setTimeout(attempt, 100);
        return;
      }
      void this.#propose(
        {
          case: "memberAttributesSet",
          value: {
            memberId: this.#memberId,
            name: this.config.name,
            clientUrls: this.config.advertiseClientUrls,
          } as never,
        },
        undefined,
      )
        .then(() => this.logger.info("published this member's name and client URLs"))
        .catch((err: unknown) => {
          this.logger.debug({ err: String(err) }, "publishing the member attributes failed; retrying");
          if (!this.#stopped) this.#publishTimer = setTimeout(attempt, 500);
        });
    };
    this.#publishTimer = setTimeout(attempt, 0);
  }

  #applyMemberAttributes(
    write: BackendWrite,
    attrs: { memberId: bigint; name: string; clientUrls: string[] },
  ): void {
    const member = this.#members.get(attrs.memberId);
    if (member === undefined) return;
    const updated = { ...member, name: attrs.name, clientUrls: [...attrs.clientUrls] };
    this.#members.set(member.id, updated);
    write.scoped("members").put(memberKey(member.id), encodeMember(updated));
  }

  // ---------------------------------------------------------------------------------------------------
  // Apply

  async #applyEntries(entries: Entry[], snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot !== undefined && snapshot.metadata.index > this.#applied.value) {
      await this.#installSnapshot(snapshot);
    }
    // Consecutive kv writes (and entries with nothing to write) share one backend batch: one LevelDB write
    // for many entries. Each entry's effects and its waiter wait for that batch, as with one entry per batch.
    let group: ApplyGroup | undefined;
    for (const entry of entries) {
      if (entry.index <= this.#applied.value) continue;
      const fresh = entry.index > this.#consistentIndex;
      const request =
        fresh && entry.type === EntryType.Normal && entry.data.length > 0
          ? this.#applier.decode(entry.data)
          : undefined;
      // With auth on, a put's permission check reads the lessor's key attachments, which an earlier entry of
      // the group would not have published yet: apply one entry per batch then.
      const joins =
        entry.type === EntryType.Normal &&
        (request === undefined || (Applier.groupable(request) && !this.#auth.enabled));
      if (!joins) {
        if (group !== undefined) await this.#commitGroup(group);
        group = undefined;
        await this.#applyEntry(entry);
        this.#afterApplied(entry);
        continue;
      }
      group ??= { write: this.#backend.write(), entries: [], applied: [] };
      group.entries.push(entry);
      if (fresh) {
        if (request !== undefined) {
          const { id, result, publish } = await this.#applier.applyRequest(request, entry.index, group.write);
          group.applied.push({ id, result, publish });
        }
        group.write.setConsistentIndex(entry.index, entry.term);
      }
      if (group.entries.length >= maxEntriesPerBackendWrite) {
        await this.#commitGroup(group);
        group = undefined;
      }
    }
    if (group !== undefined) await this.#commitGroup(group);
    this.#term = Math.max(this.#term, this.#raft.term);
    this.#maybeCampaignAlone();
    if (this.#snapshotWanted || this.#applied.value - this.#snapshotIndex >= this.config.snapshotCount) {
      this.#snapshotWanted = false;
      if (this.#applied.value > this.#snapshotIndex) await this.#snapshot();
    }
  }

  /**
   * commitGroup writes a group's backend batch, then, in entry order, publishes each entry's effects (mvcc
   * commits its pending writes in the order they executed), answers its proposer and marks it applied: nothing
   * of the group is visible to readers, watchers or proposers before its batch is written.
   */
  async #commitGroup(group: ApplyGroup): Promise<void> {
    const stopTimer = this.#metrics.backendCommitSeconds.startTimer();
    await group.write.commit();
    stopTimer();
    const last = group.entries[group.entries.length - 1];
    assert(last !== undefined, "an apply group holds at least one entry");
    if (last.index > this.#consistentIndex && group.write.size > 0) this.#consistentIndex = last.index;
    for (const applied of group.applied) {
      applied.publish();
      this.#wait.trigger(applied.id, applied.result);
    }
    for (const entry of group.entries) this.#afterApplied(entry);
  }

  /** afterApplied marks `entry` applied, and lets a new leader's lessor take over at its own term. */
  #afterApplied(entry: Entry): void {
    this.#applied.advance(entry.index);
    if (this.#promoteAtTerm !== undefined && entry.term >= this.#promoteAtTerm && this.isLeader) {
      this.#promoteAtTerm = undefined;
      this.#lessor.promote(this.config.electionTimeoutMs);
    }
  }

  /**
   * installSnapshot replaces our state with a snapshot the leader sent: the backend from the received file
   * (already checked against its SHA-256), then every store re-opened over it. Watchers stay: mvcc's
   * restore catches them up from the new state.
   */
  async #installSnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.metadata.index;
    const file = this.snapshotFile(index);
    this.logger.info({ index, term: snapshot.metadata.term }, "installing a snapshot from the leader");
    const started = performance.now();
    this.#lessorDriver.stop();
    await this.#backend.restoreFrom(file);
    const restoredMs = performance.now() - started;
    await this.#openStores();
    this.#lessorDriver = this.#newLessorDriver();
    this.#lessorDriver.start();
    const ci = await this.#backend.consistentIndex();
    this.#consistentIndex = ci.index;
    this.#confState = snapshot.metadata.confState;
    this.#snapshotIndex = index;
    this.#applied.advance(index);
    this.#syncPeers();
    await fs.promises.rm(file, { force: true });
    this.#dbSizeBytes = await this.#backend.sizeBytes();
    this.logger.info(
      { index, restoreMs: Math.round(restoredMs), totalMs: Math.round(performance.now() - started) },
      "installed the snapshot",
    );
  }

  /**
   * snapshot bounds the raft log: once `snapshotCount` entries were applied since the last one, make the
   * backend durable, record a raft snapshot (metadata only: the backend IS the state), mark it in the WAL,
   * drop in-memory entries older than the catch-up window, and release WAL segments before it.
   */
  async #snapshot(): Promise<void> {
    const stopTimer = this.#metrics.snapshotSaveSeconds.startTimer();
    try {
      await this.#saveSnapshot();
    } finally {
      stopTimer();
    }
  }

  async #saveSnapshot(): Promise<void> {
    const index = this.#applied.value;
    const term = this.#raft.storage.term(index);
    const sync = this.#backend.write();
    sync.setConsistentIndex(this.#consistentIndex, term);
    await sync.commit(true);
    await this.#raft.flushHardState();
    const snapshot = this.#raft.storage.createSnapshot(index, this.#confState, new Uint8Array());
    await this.#snapshotter.save(snapshot);
    await this.#wal.saveSnapshot({ index, term, confState: this.#confState });
    const compactTo = index - this.config.snapshotCatchupEntries;
    if (compactTo > this.#raft.storage.firstIndex()) this.#raft.storage.compact(compactTo);
    await this.#wal.releaseTo(index);
    await this.#snapshotter.purge(maxSnapshotFiles);
    this.#snapshotIndex = index;
    this.logger.info({ index, term }, "saved a raft snapshot and released the WAL before it");
  }

  async #applyEntry(entry: Entry): Promise<void> {
    const write = this.#backend.write();
    const fresh = entry.index > this.#consistentIndex;
    if (entry.type === EntryType.ConfChange) {
      const cc = decodeConfChange(entry.data);
      this.#confState = this.#raft.rawNode.applyConfChange(cc);
      const members = write.scoped("members");
      const context = cc.context.length > 0 ? decodeMember(cc.context) : undefined;
      switch (cc.type) {
        case ConfChangeType.AddNode:
        case ConfChangeType.AddLearnerNode: {
          const existing = this.#members.get(cc.nodeId);
          let member: MemberInfo | undefined;
          if (existing !== undefined) {
            // A voter AddNode for a learner is its promotion.
            if (cc.type === ConfChangeType.AddNode && existing.isLearner)
              member = { ...existing, isLearner: false };
          } else if (context !== undefined) {
            member = { ...context, isLearner: cc.type === ConfChangeType.AddLearnerNode };
          }
          if (member !== undefined) {
            this.#members.set(member.id, member);
            if (fresh) members.put(memberKey(member.id), encodeMember(member));
          }
          if (cc.nodeId !== this.#memberId) this.#snapshotWanted = true;
          break;
        }
        case ConfChangeType.RemoveNode:
          this.#members.delete(cc.nodeId);
          this.#removed.add(cc.nodeId);
          if (fresh) {
            members.del(memberKey(cc.nodeId));
            members.put(removedMemberKey(cc.nodeId), new Uint8Array());
          }
          break;
        case ConfChangeType.UpdateNode: {
          const existing = this.#members.get(cc.nodeId);
          if (existing !== undefined && context !== undefined) {
            const member = { ...existing, peerUrls: [...context.peerUrls] };
            this.#members.set(member.id, member);
            if (fresh) members.put(memberKey(member.id), encodeMember(member));
          }
          break;
        }
      }
      if (fresh) {
        write.setConsistentIndex(entry.index, entry.term);
        await write.commit();
        this.#consistentIndex = entry.index;
      }
      this.#syncPeers();
      if (cc.id !== 0n) this.#wait.trigger(cc.id, { response: this.#sortedMembers() });
      if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.#memberId && this.#started) {
        setImmediate(() => this.#onRemoved());
      }
      return;
    }
    if (fresh && entry.type === EntryType.Normal && entry.data.length > 0) {
      const { id, result, publish } = await this.#applier.apply(entry.data, entry.index, write);
      write.setConsistentIndex(entry.index, entry.term);
      const stopTimer = this.#metrics.backendCommitSeconds.startTimer();
      await write.commit();
      stopTimer();
      this.#consistentIndex = entry.index;
      publish();
      this.#wait.trigger(id, result);
      return;
    }
    if (fresh) {
      write.setConsistentIndex(entry.index, entry.term);
      await write.commit();
      this.#consistentIndex = entry.index;
    }
  }

  #sortedMembers(): MemberInfo[] {
    return [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  #maybeCampaignAlone(): void {
    // A member that is the only voter need not wait an election timeout before it leads.
    if (this.#campaignedAlone || this.#leader !== 0n) return;
    if (this.#confState.voters.length === 1 && this.#confState.voters[0] === this.#memberId) {
      this.#campaignedAlone = true;
      // After this Ready is advanced: raft refuses to campaign while conf changes are unapplied.
      setImmediate(() => {
        if (!this.#stopped && this.#leader === 0n) this.#raft.campaign();
      });
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Proposals and reads

  #header(revision?: bigint): pb.ResponseHeader {
    return create(ResponseHeaderSchema, {
      clusterId: this.#clusterId,
      memberId: this.#memberId,
      revision: revision ?? this.#kv?.currentRevision ?? 0n,
      raftTerm: BigInt(this.#term),
    });
  }

  /** stamp fills the member fields of a header the stores made (which carry only the revision). */
  #stamp<T extends { header?: pb.ResponseHeader | undefined }>(response: T): T {
    response.header = this.#header(response.header?.revision || undefined);
    return response;
  }

  async #authInfo(rc: RequestContext): Promise<AuthInfo | undefined> {
    if (!this.#auth.enabled) return undefined;
    if (rc.token !== undefined) {
      try {
        return await this.#auth.authInfoFromToken(rc.token);
      } catch (err) {
        // A simple token ("<16 letters>.<raft index>") exists on a member once it has applied the
        // Authenticate entry at that index. A client that got its token from another member may ask here
        // first: when the token's index is beyond what this member applied, catch up to the leader's
        // commit (one read index round) and look again. Other unknown tokens fail at once.
        if (!isAuthError(err, "invalidAuthToken") || this.#members.size < 2) throw err;
        const index = /^[A-Za-z]{16}\.(\d{1,16})$/.exec(rc.token)?.[1];
        if (index === undefined || Number(index) <= this.#applied.value) throw err;
        await this.#linearizableRead().catch(() => {
          throw err;
        });
        return this.#auth.authInfoFromToken(rc.token);
      }
    }
    // With --client-cert-auth, a client without a token is the user its certificate names (as etcd).
    if (this.config.clientCertAuth && rc.commonName !== undefined) {
      return this.#auth.authInfoFromCommonName(rc.commonName);
    }
    return undefined;
  }

  /**
   * checkLive refuses client requests the member cannot serve now: it stopped, the client asked for a
   * leader (`hasleader`) and there is none, or this member is a learner (which serves only Status and
   * serializable Range: `learnerOk`).
   */
  #checkLive(rc: RequestContext | undefined, learnerOk = false): void {
    if (this.#stopped) throw errors.stopped();
    if (rc === undefined) return;
    if (rc.requireLeader && this.#leader === 0n) throw errors.noLeader();
    if (!learnerOk && this.isLearner) throw new EtcdError("etcdserver: rpc not supported for learner");
  }

  /** propose sends an internal request through raft and resolves with its applied result. */
  async #propose(request: InternalRequest["request"], who: AuthInfo | undefined): Promise<unknown> {
    this.#checkLive(undefined);
    if (this.#raft.committed - this.#applied.value > limits.maxApplyLag) throw errors.tooManyRequests();
    const id = this.#ids.next();
    const internal = create(InternalRequestSchema, {
      header: { id, username: who?.username ?? "", authRevision: BigInt(who?.revision ?? 0) },
      request: request as never,
    });
    const data = toBinary(InternalRequestSchema, internal);
    if (data.length > this.config.maxRequestBytes) throw errors.requestTooLarge();
    const result = this.#wait.register(id);
    if (result === undefined) throw errors.tooManyRequests();
    try {
      this.#raft.propose(data);
    } catch (err) {
      this.#wait.fail(id, this.#leader === 0n ? errors.noLeader() : errors.timeout());
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    const timer = setTimeout(() => this.#wait.fail(id, errors.timeout()), this.#requestTimeoutMs());
    try {
      const applied = await result;
      if (applied.error !== undefined) throw applied.error;
      return applied.response;
    } catch (err) {
      if (err instanceof EtcdError && err.code === Code.Unavailable) this.#metrics.proposalsFailed.inc();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #linearizableRead(): Promise<void> {
    await this.#reads.read();
  }

  // ---------------------------------------------------------------------------------------------------
  // KV

  async range(req: pb.RangeRequest, rc: RequestContext): Promise<pb.RangeResponse> {
    this.#checkLive(rc, req.serializable);
    checkRangeRequest(req);
    const who = await this.#authInfo(rc);
    if (!req.serializable) await this.#linearizableRead();
    this.#auth.checkRequest(who, { kind: "range", request: req });
    return this.#stamp(await this.#kv.range(req));
  }

  async put(req: pb.PutRequest, rc: RequestContext): Promise<pb.PutResponse> {
    this.#checkLive(rc);
    const cost = putCost(req);
    this.#checkQuota(cost);
    checkPutRequest(req);
    const who = await this.#authInfo(rc);
    const res = this.#stamp((await this.#propose({ case: "put", value: req }, who)) as pb.PutResponse);
    this.#writtenBytes += cost;
    return res;
  }

  /**
   * checkQuota refuses a write that would take the backend past its quota, as etcd's quota check does
   * before proposing: it raises the NOSPACE alarm (through raft) and answers "database space exceeded".
   * The size is the last sampled one plus what was written since.
   */
  #checkQuota(costBytes: number): void {
    if (costBytes === 0) return;
    if (this.#alarms.has(AlarmType.NOSPACE)) throw errors.noSpace();
    if (this.#dbSizeBytes + this.#writtenBytes + costBytes > this.#quotaBytes()) {
      this.#raiseNoSpace();
      throw errors.noSpace();
    }
  }

  async deleteRange(req: pb.DeleteRangeRequest, rc: RequestContext): Promise<pb.DeleteRangeResponse> {
    this.#checkLive(rc);
    checkDeleteRangeRequest(req);
    const who = await this.#authInfo(rc);
    return this.#stamp(
      (await this.#propose({ case: "deleteRange", value: req }, who)) as pb.DeleteRangeResponse,
    );
  }

  async txn(req: pb.TxnRequest, rc: RequestContext): Promise<pb.TxnResponse> {
    this.#checkLive(rc);
    const cost = txnCost(req);
    this.#checkQuota(cost);
    this.#writtenBytes += cost;
    checkTxnRequest(req, this.config.maxTxnOps);
    const who = await this.#authInfo(rc);
    // Only the top-level header carries the member fields; the ops' headers keep just the revision, as etcd's.
    return this.#stamp((await this.#propose({ case: "txn", value: req }, who)) as pb.TxnResponse);
  }

  async compact(req: pb.CompactionRequest, rc: RequestContext): Promise<pb.CompactionResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    return this.#stamp(
      (await this.#propose({ case: "compaction", value: req }, who)) as pb.CompactionResponse,
    );
  }

  #startAutoCompaction(): void {
    const retention = this.config.autoCompactionRetention.trim();
    if (retention === "" || retention === "0") return;
    if (this.config.autoCompactionMode === "revision") {
      const keep = BigInt(Number.parseInt(retention, 10));
      if (keep <= 0n) return;
      this.#compactionTimer = setInterval(
        () => {
          if (!this.isLeader) return;
          const target = this.#kv.currentRevision - keep;
          if (target > this.#kv.compactRevision) this.#autoCompact(target);
        },
        5 * 60 * 1000,
      );
    } else {
      const hours = /^\d+$/.test(retention)
        ? Number(retention) * 3600_000
        : (parseGoDurationMs(retention) ?? 0);
      if (hours <= 0) return;
      const history: Array<{ at: number; revision: bigint }> = [];
      const period = Math.max(1000, Math.min(hours / 10, 3600_000));
      this.#compactionTimer = setInterval(() => {
        history.push({ at: Date.now(), revision: this.#kv.currentRevision });
        if (!this.isLeader) return;
        while (history.length > 0 && (history[0]?.at ?? 0) < Date.now() - hours) {
          const oldest = history.shift();
          if (oldest !== undefined && oldest.revision > this.#kv.compactRevision)
            this.#autoCompact(oldest.revision);
        }
      }, period);
    }
    this.#compactionTimer.unref();
  }

  #autoCompact(revision: bigint): void {
    void this.#propose(
      { case: "compaction", value: { revision, physical: false } as pb.CompactionRequest },
      undefined,
    )
      .then(() => this.logger.info({ revision: revision.toString() }, "auto-compacted"))
      .catch((err: unknown) => this.logger.warn({ err }, "auto-compaction failed"));
  }

  // ---------------------------------------------------------------------------------------------------
  // Lease

  async leaseGrant(req: pb.LeaseGrantRequest, rc: RequestContext): Promise<pb.LeaseGrantResponse> {
    this.#checkLive(rc);
    this.#checkQuota(leaseOverheadBytes);
    const who = await this.#authInfo(rc);
    if (req.TTL > 9_000_000_000n) throw new EtcdError("etcdserver: too large lease TTL");
    if (req.ID !== 0n && this.#lessor.lookup(req.ID) !== undefined) {
      throw new EtcdError("etcdserver: lease already exists");
    }
    return this.#stamp(
      (await this.#propose({ case: "leaseGrant", value: req }, who)) as pb.LeaseGrantResponse,
    );
  }

  async leaseRevoke(req: pb.LeaseRevokeRequest, rc: RequestContext): Promise<pb.LeaseRevokeResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    if (this.#lessor.lookup(req.ID) === undefined)
      throw new EtcdError("etcdserver: requested lease not found");
    return this.#stamp(
      (await this.#propose({ case: "leaseRevoke", value: req }, who)) as pb.LeaseRevokeResponse,
    );
  }

  async leaseRenew(id: bigint, rc: RequestContext): Promise<bigint> {
    this.#checkLive(rc);
    // Only the leader knows how long a lease has left: a follower forwards the renewal.
    if (this.isLeader) return this.#leaseRenewAsLeader(id);
    const res = await this.#forwardToLeader((client, header) => client.leaseRenew({ header, id }));
    return res.ttl;
  }

  async #leaseRenewAsLeader(id: bigint): Promise<bigint> {
    if (!this.isLeader) throw errors.notLeader();
    // A renew must not race an applied revoke: wait until everything committed so far is applied.
    await this.#linearizableRead();
    const result = this.#lessor.keepAlive(id);
    if (result.checkpoint !== undefined) {
      await this.#propose(
        {
          case: "leaseCheckpoint",
          value: { checkpoints: [{ id: result.checkpoint.id, remainingTtl: 0n }] } as never,
        },
        undefined,
      );
    }
    return BigInt(result.ttlSeconds);
  }

  async leaseTimeToLive(
    req: pb.LeaseTimeToLiveRequest,
    rc: RequestContext,
  ): Promise<pb.LeaseTimeToLiveResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    await this.#linearizableRead();
    const lease = this.#lessor.lookup(req.ID);
    this.#auth.checkRequest(who, {
      kind: "leaseTimeToLive",
      keys: req.keys,
      attachedKeys: lease?.keys ?? [],
    });
    if (this.isLeader) return this.#leaseTimeToLiveAsLeader(req);
    const res = await this.#forwardToLeader((client, header) =>
      client.leaseTimeToLive({ header, request: req }),
    );
    return this.#stamp(res);
  }

  async #leaseTimeToLiveAsLeader(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    if (!this.isLeader) throw errors.notLeader();
    await this.#linearizableRead();
    const ttl = this.#lessor.timeToLive(req.ID, { keys: req.keys });
    return create(LeaseTimeToLiveResponseSchema, {
      header: this.#header(),
      ID: req.ID,
      TTL: BigInt(ttl.ttlSeconds),
      grantedTTL: BigInt(ttl.grantedTtlSeconds),
      keys: [...ttl.keys],
    });
  }

  async leaseLeases(_req: pb.LeaseLeasesRequest, rc: RequestContext): Promise<pb.LeaseLeasesResponse> {
    this.#checkLive(rc);
    if (this.isLeader) return this.#leaseLeasesAsLeader();
    return this.#stamp(await this.#forwardToLeader((client, header) => client.leaseLeases({ header })));
  }

  async #leaseLeasesAsLeader(): Promise<pb.LeaseLeasesResponse> {
    await this.#linearizableRead();
    return create(LeaseLeasesResponseSchema, {
      header: this.#header(),
      leases: this.#lessor.leases().map((id) => ({ ID: id })),
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Cluster

  #memberMessage(member: MemberInfo): MessageInitShape<typeof MemberSchema> {
    return {
      ID: member.id,
      name: member.name,
      peerURLs: member.peerUrls,
      clientURLs: member.clientUrls,
      isLearner: member.isLearner,
    };
  }

  async memberList(req: pb.MemberListRequest, rc: RequestContext): Promise<pb.MemberListResponse> {
    this.#checkLive(rc);
    if (req.linearizable) await this.#linearizableRead();
    return create(MemberListResponseSchema, {
      header: this.#header(0n), // etcd's cluster responses carry no revision
      members: this.#sortedMembers().map((m) => this.#memberMessage(m)),
    });
  }

  /** isLearner tells whether this member is a learner now. */
  get isLearner(): boolean {
    return this.#members.get(this.#memberId)?.isLearner ?? false;
  }

  /** started members are those that published their name (etcd's IsStarted). */
  #startedVoters(except?: bigint): { voters: number; started: number } {
    let voters = 0;
    let started = 0;
    for (const member of this.#members.values()) {
      if (member.isLearner || member.id === except) continue;
      voters++;
      if (member.name !== "") started++;
    }
    return { voters, started };
  }

  /** connectedVoters counts voters (us included) heard from continuously since `sinceMs`. */
  #connectedVoters(sinceMs: number): { voters: number; connected: number } {
    let voters = 0;
    let connected = 0;
    for (const member of this.#members.values()) {
      if (member.isLearner) continue;
      voters++;
      const since = this.#transport.activeSince(member.id);
      if (since !== undefined && since <= sinceMs) connected++;
    }
    return { voters, connected };
  }

  async #proposeConfChange(
    type: ConfChangeType,
    nodeId: bigint,
    member: MemberInfo | undefined,
  ): Promise<MemberInfo[]> {
    this.#checkLive(undefined);
    const deadlineMs = Date.now() + this.#requestTimeoutMs();
    await this.#raftAppliedCaughtUp(deadlineMs);
    const id = this.#ids.next();
    const result = this.#wait.register(id);
    if (result === undefined) throw errors.tooManyRequests();
    try {
      this.#raft.proposeConfChange({
        id,
        type,
        nodeId,
        context: member === undefined ? new Uint8Array() : encodeMember(member),
      });
    } catch (err) {
      this.#wait.fail(id, this.#leader === 0n ? errors.noLeader() : errors.timeout());
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    const timer = setTimeout(
      () => this.#wait.fail(id, errors.timeout()),
      Math.max(0, deadlineMs - Date.now()),
    );
    try {
      const applied = await result;
      if (applied.error !== undefined) throw applied.error;
      return applied.response as MemberInfo[];
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * raftAppliedCaughtUp waits (bounded by `deadlineMs`) until raft counts as applied every entry this member
   * applied. Raft allows one unapplied conf change at a time and silently turns a second into an empty entry
   * (as etcd's raft does), so that proposer would wait out the request timeout. Raft learns what was applied
   * only at advance(), after the whole Ready's apply, and the apply of an added member goes on to take a raft
   * snapshot (several fsyncs) after its proposer was answered: a client's next membership change arrives in
   * that window. etcd's raft loop advances before its apply finishes, so it never sees this.
   */
  async #raftAppliedCaughtUp(deadlineMs: number): Promise<void> {
    while (this.#raft.rawNode.status().applied < this.#applied.value) {
      if (Date.now() > deadlineMs) throw errors.timeout();
      this.#checkLive(undefined);
      await new Promise((resolve) => setTimeout(resolve, raftAppliedPollMs));
    }
  }

  #checkPeerUrls(urls: readonly string[], except?: bigint): void {
    if (urls.length === 0)
      throw new EtcdError("etcdserver: member peer URLs are empty", Code.InvalidArgument);
    for (const url of urls) {
      try {
        parseUrl(url);
      } catch {
        throw new EtcdError(`etcdserver: invalid peer URL ${JSON.stringify(url)}`, Code.InvalidArgument);
      }
    }
    for (const member of this.#members.values()) {
      if (member.id === except) continue;
      if (member.peerUrls.some((url) => urls.includes(url)))
        throw new EtcdError("etcdserver: Peer URLs already exists");
    }
  }

  async memberAdd(req: pb.MemberAddRequest, rc: RequestContext): Promise<pb.MemberAddResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    this.#checkPeerUrls(req.peerURLs);
    if (req.isLearner) {
      const learners = [...this.#members.values()].filter((m) => m.isLearner).length;
      if (learners >= this.config.maxLearners)
        throw new EtcdError("etcdserver: too many learner members in cluster");
    } else if (this.config.strictReconfigCheck) {
      // The new member will not have started yet: the started ones must still be a quorum with it.
      const { voters, started } = this.#startedVoters();
      const after = voters + 1;
      if (!(started === 1 && after === 2) && started < Math.floor(after / 2) + 1) {
        throw new EtcdError("etcdserver: re-configuration failed due to not enough started members");
      }
      const { voters: all, connected } = this.#connectedVoters(Date.now() - healthIntervalMs);
      if (connected < all) throw new EtcdError("etcdserver: unhealthy cluster");
    }
    const member: MemberInfo = {
      id: memberIdOf(req.peerURLs, this.config.initialClusterToken, Date.now()),
      name: "",
      peerUrls: [...req.peerURLs],
      clientUrls: [],
      isLearner: req.isLearner,
    };
    const members = await this.#proposeConfChange(
      req.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
      member.id,
      member,
    );
    return create(MemberAddResponseSchema, {
      header: this.#header(0n),
      member: this.#memberMessage(member),
      members: members.map((m) => this.#memberMessage(m)),
    });
  }

  async memberRemove(req: pb.MemberRemoveRequest, rc: RequestContext): Promise<pb.MemberRemoveResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    const target = this.#members.get(req.ID);
    if (target === undefined) throw errors.memberNotFound();
    if (this.config.strictReconfigCheck && !target.isLearner) {
      const { voters, started } = this.#startedVoters(req.ID);
      if (started < Math.floor(voters / 2) + 1) {
        throw new EtcdError("etcdserver: re-configuration failed due to not enough started members");
      }
      // A member that is down is not part of the active quorum: removing it is safe.
      if (req.ID === this.#memberId || this.#transport.activeSince(req.ID) !== undefined) {
        const { voters: all, connected } = this.#connectedVoters(Date.now() - healthIntervalMs);
        if (connected - 1 < Math.floor((all - 1) / 2) + 1)
          throw new EtcdError("etcdserver: unhealthy cluster");
      }
    }
    const members = await this.#proposeConfChange(ConfChangeType.RemoveNode, req.ID, undefined);
    return create(MemberRemoveResponseSchema, {
      header: this.#header(0n),
      members: members.map((m) => this.#memberMessage(m)),
    });
  }

  async memberUpdate(req: pb.MemberUpdateRequest, rc: RequestContext): Promise<pb.MemberUpdateResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    const existing = this.#members.get(req.ID);
    if (existing === undefined) throw errors.memberNotFound();
    this.#checkPeerUrls(req.peerURLs, req.ID);
    const members = await this.#proposeConfChange(ConfChangeType.UpdateNode, req.ID, {
      ...existing,
      peerUrls: [...req.peerURLs],
    });
    return create(MemberUpdateResponseSchema, {
      header: this.#header(0n),
      members: members.map((m) => this.#memberMessage(m)),
    });
  }

  async memberPromote(req: pb.MemberPromoteRequest, rc: RequestContext): Promise<pb.MemberPromoteResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    if (!this.#members.has(req.ID)) throw errors.memberNotFound();
    if (this.isLeader) await this.#memberPromoteAsLeader(req.ID);
    else await this.#forwardToLeader((client, header) => client.memberPromote({ header, memberId: req.ID }));
    await this.#waitMember(req.ID, (m) => m === undefined || !m.isLearner);
    return create(MemberPromoteResponseSchema, {
      header: this.#header(0n),
      members: this.#sortedMembers().map((m) => this.#memberMessage(m)),
    });
  }

  /** memberPromoteAsLeader checks that the learner caught up (only the leader knows) and promotes it. */
  async #memberPromoteAsLeader(id: bigint): Promise<void> {
    if (!this.isLeader) throw errors.notLeader();
    const member = this.#members.get(id);
    if (member === undefined) throw errors.memberNotFound();
    if (!member.isLearner) throw new EtcdError("etcdserver: can only promote a learner member");
    // Readiness first, then the strict reconfiguration check, in etcd's order (mayPromoteMember): a learner
    // that never started is reported as not in sync, not as "not enough started members".
    const progress = this.#raft.rawNode.status().progress;
    const leaderMatch = progress.get(this.#memberId)?.match ?? 0;
    const learnerMatch = progress.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * learnerReadyPercent) {
      throw new EtcdError("etcdserver: can only promote a learner member which is in sync with leader");
    }
    if (this.config.strictReconfigCheck) {
      const { voters, started } = this.#startedVoters();
      if (started + (member.name === "" ? 0 : 1) < Math.floor((voters + 1) / 2) + 1) {
        throw new EtcdError("etcdserver: re-configuration failed due to not enough started members");
      }
    }
    await this.#proposeConfChange(ConfChangeType.AddNode, id, { ...member, isLearner: false });
  }

  /** waitMember waits (bounded) until the applied membership satisfies `done` for `id`. */
  async #waitMember(id: bigint, done: (m: MemberInfo | undefined) => boolean): Promise<void> {
    const deadline = Date.now() + this.#requestTimeoutMs();
    while (!done(this.#members.get(id))) {
      if (Date.now() > deadline) throw errors.timeout();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** forwardToLeader runs a peer call on the leader, mapping its etcd errors back to ours. */
  async #forwardToLeader<T>(
    call: (client: Client<typeof Peer>, header: PeerHeader) => Promise<T>,
  ): Promise<T> {
    const leader = this.#leader;
    if (leader === 0n) throw errors.noLeader();
    const client = this.#transport.client(leader);
    if (client === undefined) throw errors.noLeader();
    try {
      return await call(client, this.#transport.header(leader));
    } catch (err) {
      if (err instanceof ConnectError) {
        if (err.rawMessage.startsWith("etcdserver:")) throw new EtcdError(err.rawMessage, err.code);
        if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded) throw errors.leaderChanged();
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Maintenance

  async alarm(req: pb.AlarmRequest, rc: RequestContext): Promise<pb.AlarmResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    if (req.action === AlarmRequest_AlarmAction.GET) {
      return this.#alarms.apply({ put: () => {}, del: () => {} }, req.action, req.memberID, req.alarm);
    }
    return (await this.#propose({ case: "alarm", value: req }, who)) as pb.AlarmResponse;
  }

  async status(_req: pb.StatusRequest, rc: RequestContext): Promise<pb.StatusResponse> {
    this.#checkLive(rc, true);
    const st = this.#raft.rawNode.status();
    this.#dbSizeBytes = await this.#backend.sizeBytes();
    const dbSize = BigInt(this.#dbSizeBytes);
    const errorsList = this.#alarms.list().map((a) => `memberID:${a.memberID} alarm:${AlarmType[a.alarm]} `);
    return create(StatusResponseSchema, {
      header: this.#header(),
      version: serverVersion,
      dbSize,
      dbSizeInUse: dbSize,
      leader: this.#leader,
      raftIndex: BigInt(st.hardState.commit),
      raftTerm: BigInt(this.#term),
      raftAppliedIndex: BigInt(this.#applied.value),
      errors: errorsList,
      isLearner: this.isLearner,
      storageVersion: serverVersion,
      dbSizeQuota: BigInt(this.config.quotaBackendBytes || limits.defaultQuotaBackendBytes),
    });
  }

  async defragment(_req: pb.DefragmentRequest, rc: RequestContext): Promise<pb.DefragmentResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    await this.#backend.defragment();
    this.#dbSizeBytes = await this.#backend.sizeBytes();
    return { $typeName: "etcdserverpb.DefragmentResponse", header: this.#header() };
  }

  async hash(_req: pb.HashRequest, rc: RequestContext): Promise<pb.HashResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    const result = await this.#kv.hashKV(0n);
    return { $typeName: "etcdserverpb.HashResponse", header: this.#header(), hash: result.hash };
  }

  async hashKV(req: pb.HashKVRequest, rc: RequestContext): Promise<pb.HashKVResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    const result = await this.#kv.hashKV(req.revision);
    return {
      $typeName: "etcdserverpb.HashKVResponse",
      header: this.#header(),
      hash: result.hash,
      compactRevision: result.compactRevision,
      hashRevision: result.hashRevision,
    };
  }

  async *snapshot(_req: pb.SnapshotRequest, rc: RequestContext): AsyncIterable<pb.SnapshotResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    // etcd's snapshot is its bbolt file followed by the SHA-256 of it; ours is a bbolt file with etcd's bucket
    // layout built from the backend at one moment, so etcdctl/etcdutl can read it.
    const buckets = await this.#backend.readConsistent((read) => etcdBuckets(read, clusterVersion));
    const file = writeBoltFile(buckets);
    const digest = createHash("sha256").update(file).digest();
    const total = file.length + digest.length;
    let sent = 0;
    const chunkBytes = 32 * 1024;
    while (sent < file.length) {
      rc.signal.throwIfAborted();
      const blob = file.subarray(sent, Math.min(sent + chunkBytes, file.length));
      sent += blob.length;
      yield create(SnapshotResponseSchema, {
        header: this.#header(),
        remainingBytes: BigInt(total - sent),
        blob,
        version: serverVersion,
      });
    }
    yield create(SnapshotResponseSchema, {
      header: this.#header(),
      remainingBytes: 0n,
      blob: new Uint8Array(digest),
      version: serverVersion,
    });
  }

  async moveLeader(req: pb.MoveLeaderRequest, rc: RequestContext): Promise<pb.MoveLeaderResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    if (!this.isLeader) throw errors.notLeader();
    if (req.targetID === this.#memberId)
      return { $typeName: "etcdserverpb.MoveLeaderResponse", header: this.#header() };
    const target = this.#members.get(req.targetID);
    if (target === undefined || target.isLearner) throw errors.badLeaderTransferee();
    this.#raft.transferLeader(req.targetID);
    // Wait (bounded) for the transferee to take over, as etcd does.
    const deadline = Date.now() + this.#requestTimeoutMs();
    while (this.#leader !== req.targetID) {
      if (this.#stopped) throw errors.stopped();
      if (Date.now() > deadline) throw errors.timeout();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { $typeName: "etcdserverpb.MoveLeaderResponse", header: this.#header() };
  }

  async downgrade(_req: pb.DowngradeRequest, _rc: RequestContext): Promise<pb.DowngradeResponse> {
    throw new EtcdError("etcdserver: invalid downgrade target version");
  }

  // ---------------------------------------------------------------------------------------------------
  // Auth

  async #authAdmin(rc: RequestContext, request: InternalRequest["request"]): Promise<unknown> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    const res = (await this.#propose(request, who)) as { header?: pb.ResponseHeader };
    return { ...res, header: this.#header() };
  }

  async authEnable(req: pb.AuthEnableRequest, rc: RequestContext): Promise<pb.AuthEnableResponse> {
    return (await this.#authAdmin(rc, { case: "authEnable", value: req })) as pb.AuthEnableResponse;
  }

  async authDisable(req: pb.AuthDisableRequest, rc: RequestContext): Promise<pb.AuthDisableResponse> {
    return (await this.#authAdmin(rc, { case: "authDisable", value: req })) as pb.AuthDisableResponse;
  }

  async authStatus(_req: pb.AuthStatusRequest, rc: RequestContext): Promise<pb.AuthStatusResponse> {
    this.#checkLive(rc);
    await this.#linearizableRead();
    const status = this.#auth.status();
    return {
      $typeName: "etcdserverpb.AuthStatusResponse",
      header: this.#header(),
      enabled: status.enabled,
      authRevision: BigInt(status.authRevision),
    };
  }

  async authenticate(req: pb.AuthenticateRequest, rc: RequestContext): Promise<pb.AuthenticateResponse> {
    this.#checkLive(rc);
    const checkedRevision = await this.#auth.checkPassword(req.name, req.password);
    const prefix = this.#auth.tokenProvider?.genTokenPrefix() ?? "";
    const res = (await this.#propose(
      {
        case: "authenticate",
        value: {
          name: req.name,
          simpleTokenPrefix: prefix,
          checkedRevision: BigInt(checkedRevision),
        } as never,
      },
      undefined,
    )) as { token: string };
    return create(AuthenticateResponseSchema, { header: this.#header(), token: res.token });
  }

  async userAdd(req: pb.AuthUserAddRequest, rc: RequestContext): Promise<pb.AuthUserAddResponse> {
    const noPassword = req.options?.noPassword ?? false;
    const hashed =
      noPassword || req.hashedPassword !== ""
        ? req.hashedPassword
        : await hashPassword(req.password, { bcryptCost: this.config.bcryptCost });
    const proposal = { ...req, password: "", hashedPassword: hashed };
    return (await this.#authAdmin(rc, { case: "userAdd", value: proposal })) as pb.AuthUserAddResponse;
  }

  async userGet(req: pb.AuthUserGetRequest, rc: RequestContext): Promise<pb.AuthUserGetResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkRequest(who, { kind: "userGet", name: req.name });
    await this.#linearizableRead();
    const user = this.#auth.userGet(req.name);
    return { $typeName: "etcdserverpb.AuthUserGetResponse", header: this.#header(), roles: user.roles };
  }

  async userList(_req: pb.AuthUserListRequest, rc: RequestContext): Promise<pb.AuthUserListResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    await this.#linearizableRead();
    return {
      $typeName: "etcdserverpb.AuthUserListResponse",
      header: this.#header(),
      users: this.#auth.userList(),
    };
  }

  async userDelete(req: pb.AuthUserDeleteRequest, rc: RequestContext): Promise<pb.AuthUserDeleteResponse> {
    return (await this.#authAdmin(rc, { case: "userDelete", value: req })) as pb.AuthUserDeleteResponse;
  }

  async userChangePassword(
    req: pb.AuthUserChangePasswordRequest,
    rc: RequestContext,
  ): Promise<pb.AuthUserChangePasswordResponse> {
    const hashed =
      req.hashedPassword !== ""
        ? req.hashedPassword
        : await hashPassword(req.password, { bcryptCost: this.config.bcryptCost });
    const proposal = { ...req, password: "", hashedPassword: hashed };
    return (await this.#authAdmin(rc, {
      case: "userChangePassword",
      value: proposal,
    })) as pb.AuthUserChangePasswordResponse;
  }

  async userGrantRole(
    req: pb.AuthUserGrantRoleRequest,
    rc: RequestContext,
  ): Promise<pb.AuthUserGrantRoleResponse> {
    return (await this.#authAdmin(rc, { case: "userGrantRole", value: req })) as pb.AuthUserGrantRoleResponse;
  }

  async userRevokeRole(
    req: pb.AuthUserRevokeRoleRequest,
    rc: RequestContext,
  ): Promise<pb.AuthUserRevokeRoleResponse> {
    return (await this.#authAdmin(rc, {
      case: "userRevokeRole",
      value: req,
    })) as pb.AuthUserRevokeRoleResponse;
  }

  async roleAdd(req: pb.AuthRoleAddRequest, rc: RequestContext): Promise<pb.AuthRoleAddResponse> {
    return (await this.#authAdmin(rc, { case: "roleAdd", value: req })) as pb.AuthRoleAddResponse;
  }

  async roleGet(req: pb.AuthRoleGetRequest, rc: RequestContext): Promise<pb.AuthRoleGetResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkRequest(who, { kind: "roleGet", role: req.role });
    await this.#linearizableRead();
    return {
      $typeName: "etcdserverpb.AuthRoleGetResponse",
      header: this.#header(),
      perm: this.#auth.roleGet(req.role),
    };
  }

  async roleList(_req: pb.AuthRoleListRequest, rc: RequestContext): Promise<pb.AuthRoleListResponse> {
    this.#checkLive(rc);
    const who = await this.#authInfo(rc);
    this.#auth.checkAdminPermitted(who);
    await this.#linearizableRead();
    return {
      $typeName: "etcdserverpb.AuthRoleListResponse",
      header: this.#header(),
      roles: this.#auth.roleList(),
    };
  }

  async roleDelete(req: pb.AuthRoleDeleteRequest, rc: RequestContext): Promise<pb.AuthRoleDeleteResponse> {
    return (await this.#authAdmin(rc, { case: "roleDelete", value: req })) as pb.AuthRoleDeleteResponse;
  }

  async roleGrantPermission(
    req: pb.AuthRoleGrantPermissionRequest,
    rc: RequestContext,
  ): Promise<pb.AuthRoleGrantPermissionResponse> {
    return (await this.#authAdmin(rc, {
      case: "roleGrantPermission",
      value: req,
    })) as pb.AuthRoleGrantPermissionResponse;
  }

  async roleRevokePermission(
    req: pb.AuthRoleRevokePermissionRequest,
    rc: RequestContext,
  ): Promise<pb.AuthRoleRevokePermissionResponse> {
    return (await this.#authAdmin(rc, {
      case: "roleRevokePermission",
      value: req,
    })) as pb.AuthRoleRevokePermissionResponse;
  }

  /** authInfoFor resolves a request context to its user (for the watch service). */
  authInfoFor(rc: RequestContext): Promise<AuthInfo | undefined> {
    return this.#authInfo(rc);
  }

  /** checkWatchPermitted throws unless the user may watch [key, rangeEnd). */
  checkWatchPermitted(who: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.#auth.checkRequest(who, { kind: "watch", key, rangeEnd });
  }

  /** header makes a response header at the current revision. */
  header(revision?: bigint): pb.ResponseHeader {
    return this.#header(revision);
  }

  /** listenUrls returns the parsed client URLs to listen on. */
  clientListenAddresses(): Array<{ protocol: "http:" | "https:"; host: string; port: number }> {
    return this.config.listenClientUrls.map((url) => parseUrl(url));
  }
}

/** Quota costs as etcd counts them: a fixed overhead per key (and per lease) plus the bytes. */
const kvOverheadBytes = 256;
const leaseOverheadBytes = 64;

function putCost(req: pb.PutRequest): number {
  return kvOverheadBytes + req.key.length + req.value.length + (req.lease !== 0n ? leaseOverheadBytes : 0);
}

function txnCost(req: pb.TxnRequest): number {
  let cost = 0;
  for (const op of [...req.success, ...req.failure]) {
    const r = op.request;
    if (r.case === "requestPut") cost += putCost(r.value);
    else if (r.case === "requestTxn") cost += txnCost(r.value);
  }
  return cost;
}

/** ApplyGroup is a run of committed entries applied into one backend write (see #applyEntries). */
interface ApplyGroup {
  readonly write: BackendWrite;
  /** entries are the group's entries in index order (those with nothing to write included). */
  readonly entries: Entry[];
  /** applied are the results and effects of the group's requests, in entry order. */
  readonly applied: Array<{ id: bigint; result: ApplyResult; publish: () => void }>;
}
