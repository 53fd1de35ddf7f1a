# The test suite's Elixir side: one long-lived VM that answers requests, so that a session pays
# for one Elixir start, not one per file (tests/support/oban.py drives it).
#
#   elixir tests/elixir/server.exs                       # Elixir alone: parse, eval
#   ERL_LIBS=OBAN_STACK/lib elixir tests/elixir/server.exs   # with the real Oban 2.18.3: all
#
# One request per line on stdin, `OP` or `OP ARG`; one answer per line on stdout, tagged JSON
# (tests/elixir/term.exs), `{"ok": true, ...}` or `{"ok": false, "error": message}`:
#
#   info           versions: Elixir, OTP, Oban (nil without the stack), the tz database
#   parse PATH     Code.string_to_quoted!/2 accepts the file
#   eval PATH      the file's value and the compiler's warnings while evaluating it
#   connect JSON   {"socket_dir", "port", "user", "database"}: an Ecto repo on that database,
#                  and Oban's own migration run by Ecto's migrator (once per session)
#   boot JSON      {"root", "config", "boot", "timeout_ms"}: in ROOT, the README's config snippet
#                  (file CONFIG, read by Config.Reader) starts a real Oban with its Cron plugin;
#                  the README's boot snippet (file BOOT) enqueues the startup jobs, which real
#                  workers perform; then a second instance whose crontab is the same entries at
#                  @reboot lets the Cron plugin insert one job per entry. Answers what Oban
#                  accepted or why it refused, each inserted job as Oban built it and its row
#                  in oban_jobs.
#   cron_tick JSON {"root", "config", "fail", "timeout_ms"}: in ROOT, a real Oban started with the
#                  README's config snippet, leader at once, its Cron plugin told to evaluate now:
#                  it inserts the crontab's entries due this minute, real workers perform them
#                  (those named in FAIL raise), and the jobs stay in oban_jobs for the test to
#                  read. Answers the inserted jobs' ids.
#   next JSON      {"items": [[expr, zone, after, count], ...], "horizon_days", "brute_force"}:
#                  the next runs of each expression as Oban's Cron plugin finds them (below);
#                  with brute_force, by asking now?/2 of every minute, without shortcuts.
Code.require_file("term.exs", __DIR__)
Code.compiler_options(ignore_module_conflict: true)
{:ok, _} = Application.ensure_all_started(:ex_unit)

if Code.ensure_loaded?(Ecto.Repo) do
  defmodule CronspecTest.ObanHarness do
    @moduledoc "The requests that need the real Oban (see the top of this file)."

    @inserted :cronspec_inserted
    @performed :cronspec_performed

    def init do
      for app <- [:logger, :postgrex, :ecto_sql, :oban, :tz] do
        {:ok, _} = Application.ensure_all_started(app)
      end

      # stdout is the answers: Oban's and Postgrex's logs go to stderr, warnings only
      Logger.configure(level: :warning)
      Logger.configure_backend(:console, device: :standard_error)
      Calendar.put_time_zone_database(Tz.TimeZoneDatabase)
      :ets.new(@inserted, [:named_table, :public, :ordered_set])
      :ets.new(@performed, [:named_table, :public, :set])

      :telemetry.attach(
        "cronspec-inserted",
        [:oban, :engine, :insert_job, :stop],
        &__MODULE__.record_insert/4,
        nil
      )
    end

    # -- a real Oban ------------------------------------------------------------------------------

    def handle("connect", %{"socket_dir" => dir, "port" => port, "user" => user, "database" => db}) do
      # in the app env, as an app's config would put it: Oban's notifier reads Repo.config()
      Application.put_env(:cronspec_test, CronspecTest.Repo,
        socket_dir: dir,
        port: port,
        username: user,
        database: db,
        pool_size: 5,
        log: false
      )

      {:ok, _} = CronspecTest.Repo.start_link()

      Ecto.Migrator.run(
        CronspecTest.Repo,
        [{20_260_101_000_000, CronspecTest.ObanMigration}],
        :up,
        all: true,
        log: false
      )

      version =
        Oban.Migrations.Postgres.migrated_version(repo: CronspecTest.Repo, prefix: "public")

      %{"ok" => true, "migrated" => version}
    end

    def handle("boot", %{"root" => root, "config" => config, "boot" => boot} = request) do
      File.cd!(root, fn -> boot(config, boot, Map.get(request, "timeout_ms", 30_000)) end)
    after
      clean_up()
    end

    def handle("cron_tick", %{"root" => root, "config" => config} = request) do
      fail = Map.get(request, "fail", [])
      timeout = Map.get(request, "timeout_ms", 30_000)
      File.cd!(root, fn -> cron_tick(config, fail, timeout) end)
    after
      stop(Oban)

      receive do
        {:EXIT, _, _} -> :ok
      after
        0 -> :ok
      end
    end

    def handle("next", %{"items" => items, "horizon_days" => horizon} = request) do
      brute? = Map.get(request, "brute_force", false)

      runs =
        for [expr, zone, after_iso, count] <- items do
          {:ok, after_at, _} = DateTime.from_iso8601(after_iso)
          CronspecTest.NextRuns.runs(expr, zone, after_at, count, horizon, brute?)
        end

      %{"ok" => true, "runs" => runs}
    end

    def handle(op, _), do: raise(ArgumentError, "unknown request #{inspect(op)}")

    # The README's two snippets, in the project's folder, against the real Oban.
    defp boot(config_path, boot_path, timeout) do
      {term, _} = Code.eval_file("generated/oban_crontab.exs")
      define_workers(term)
      {cron_opts, oban_opts} = read_config(config_path)
      {base, late_queues} = base_opts(Oban, term)
      start = start_oban(Keyword.merge(base, oban_opts))

      with :ok <- start do
        # Oban.start_queue/2 signals through the notifier, which may not listen yet: start it
        # the way Oban starts its configured queues
        for queue <- late_queues,
            do: {:ok, _} = Oban.Midwife.start_queue(Oban.config(Oban), queue: queue, limit: 5)

        mark = :erlang.unique_integer([:monotonic])
        Code.eval_file(boot_path)
        startup = inserted_since(mark, Oban)
        :ok = wait_performed(startup, timeout)
        stop(Oban)
        cron = cron_jobs(cron_opts)

        %{
          "ok" => true,
          "accepted" => true,
          "timezone" => Keyword.get(cron_opts, :timezone, "Etc/UTC"),
          "startup" => Enum.map(startup, &job/1),
          "cron" => Enum.map(cron, &job/1)
        }
      else
        {:refused, message} -> %{"ok" => true, "accepted" => false, "error" => message}
      end
    end

    defp cron_tick(config_path, fail, timeout) do
      {term, _} = Code.eval_file("generated/oban_crontab.exs")
      define_workers(term, fail)
      {_cron_opts, oban_opts} = read_config(config_path)
      {base, _late} = base_opts(Oban, term)
      :ok = start_oban(Keyword.merge(base, oban_opts) ++ [peer: Oban.Peers.Isolated])
      mark = :erlang.unique_integer([:monotonic])
      pid = Oban.Registry.whereis(Oban, {:plugin, Oban.Plugins.Cron})
      send(pid, :evaluate)
      _ = :sys.get_state(pid)
      jobs = inserted_since(mark, Oban)
      :ok = wait_done(Enum.map(jobs, & &1.id), System.monotonic_time(:millisecond) + timeout)
      %{"ok" => true, "ids" => Enum.map(jobs, & &1.id)}
    end

    defp wait_done(ids, deadline) do
      %{rows: rows} =
        CronspecTest.Repo.query!("SELECT state FROM oban_jobs WHERE id = ANY($1)", [ids])

      cond do
        Enum.all?(rows, fn [state] -> state in ~w(completed discarded retryable cancelled) end) ->
          :ok

        System.monotonic_time(:millisecond) > deadline ->
          raise "cron jobs not done in time: #{inspect(rows)}"

        true ->
          Process.sleep(20)
          wait_done(ids, deadline)
      end
    end

    defp read_config(path) do
      config = Config.Reader.read!(path)

      oban_opts =
        Enum.find_value(config, [], fn {_app, entries} -> Keyword.get(entries, Oban) end)

      cron_opts =
        Enum.find_value(Keyword.get(oban_opts, :plugins, []), [], fn
          {Oban.Plugins.Cron, opts} -> opts
          _ -> nil
        end)

      {cron_opts, oban_opts}
    end

    # What an app's config adds around the snippet: the repo, and a queue for every queue the
    # entries name (plus `default`), so that the startup jobs really run. A queue named "nil"
    # cannot be configured in `queues:` (Oban starts `nil: 5` as the queue ""): it is started
    # by name once Oban runs (`late`).
    defp base_opts(name, term) do
      {configurable, late} = Enum.split_with(queue_names(term), &(&1 != "nil"))
      queues = Enum.map(configurable, &{String.to_atom(&1), 5})
      # stage_interval: look for available jobs every 10 ms, not every second (boots are short)
      opts = [name: name, repo: CronspecTest.Repo, queues: queues, stage_interval: 10]
      {opts ++ [shutdown_grace_period: 200], late}
    end

    defp queue_names(term) do
      entries(term)
      |> Enum.map(&entry_opts/1)
      |> Enum.filter(&Keyword.keyword?/1)
      |> Enum.map(& &1[:queue])
      |> Enum.reject(&is_nil/1)
      |> Enum.map(&to_string/1)
      |> Enum.concat(["default"])
      |> Enum.uniq()
    end

    defp entries(%{crontab: crontab, startup: startup})
         when is_list(crontab) and is_list(startup),
         do: crontab ++ startup

    defp entries(_), do: []

    defp entry_opts({_expr, _worker, opts}) when is_list(opts), do: opts
    defp entry_opts({_worker, _args, opts}) when is_list(opts), do: opts
    defp entry_opts(_), do: []

    defp start_oban(opts) do
      Process.flag(:trap_exit, true)

      try do
        Oban.start_link(opts)
      rescue
        # Oban < 2.20 interpolates the parser's ArgumentError into its message, which raises
        # Protocol.UndefinedError: still Oban refusing the crontab, with the parser's reason.
        e in Protocol.UndefinedError ->
          case e.value do
            %ArgumentError{} = inner -> {:refused, Exception.message(inner)}
            _ -> {:refused, Exception.message(e)}
          end

        e ->
          {:refused, Exception.message(e)}
      end
      |> case do
        {:ok, _pid} -> :ok
        {:error, reason} -> {:refused, inspect(reason)}
        refused -> refused
      end
    end

    defp stop(name) do
      case Oban.whereis(name) do
        pid when is_pid(pid) -> Supervisor.stop(pid, :normal)
        _ -> :ok
      end
    end

    # Real workers: each is `use Oban.Worker`, and perform/1 records that it ran; those named in
    # `fail` (as Oban names workers) raise after that.
    defp define_workers(term, fail \\ []) do
      workers =
        for entry <- entries(term), is_tuple(entry), tuple_size(entry) in [2, 3] do
          case entry do
            {expr, worker} when is_binary(expr) -> worker
            {expr, worker, _} when is_binary(expr) -> worker
            {worker, _args, _opts} -> worker
          end
        end

      for worker <- Enum.uniq(workers),
          is_atom(worker),
          worker not in [nil, true, false],
          not Code.ensure_loaded?(worker) do
        fails? = Oban.Worker.to_string(worker) in fail

        body =
          quote do
            use Oban.Worker

            @impl Oban.Worker
            def perform(%Oban.Job{id: id}) do
              :ets.insert(unquote(@performed), {id, __MODULE__})
              if unquote(fails?), do: raise("#{inspect(__MODULE__)} failed on purpose")
              :ok
            end
          end

        Module.create(worker, body, Macro.Env.location(__ENV__))
      end
    end

    def record_insert(_event, _measurements, %{conf: conf, job: job}, _config) do
      :ets.insert(@inserted, {:erlang.unique_integer([:monotonic]), conf.name, job})
    end

    defp inserted_since(mark, name) do
      for {key, ^name, job} <- :ets.tab2list(@inserted), key > mark, do: job
    end

    defp wait_performed(jobs, timeout) do
      ids = Enum.map(jobs, & &1.id)
      deadline = System.monotonic_time(:millisecond) + timeout
      wait_loop(ids, deadline)
    end

    defp wait_loop([], _deadline), do: :ok

    defp wait_loop(ids, deadline) do
      %{rows: rows} =
        CronspecTest.Repo.query!("SELECT id, state, queue FROM oban_jobs WHERE id = ANY($1)", [
          ids
        ])

      states =
        Map.new(rows, fn [id, state, queue] -> {id, "#{state} in queue #{inspect(queue)}"} end)

      pending = Enum.reject(ids, &(states[&1] =~ ~r/^completed / and :ets.member(@performed, &1)))

      cond do
        pending == [] ->
          :ok

        System.monotonic_time(:millisecond) > deadline ->
          raise "startup jobs not performed in time (id => state): #{inspect(Map.take(states, pending))}"

        true ->
          Process.sleep(20)
          wait_loop(pending, deadline)
      end
    end

    # The Cron plugin inserts an entry's job only at a matching minute, and @reboot ones at its
    # first tick: a second instance with every entry at @reboot, told to tick now, inserts one job
    # per entry, built by the plugin's own code (worker opts, entry opts, args, cron meta).
    defp cron_jobs(cron_opts) do
      crontab =
        for entry <- Keyword.get(cron_opts, :crontab, []) do
          case entry do
            {_expr, worker} -> {"@reboot", worker}
            {_expr, worker, opts} -> {"@reboot", worker, opts}
          end
        end

      name = CronspecTest.CronProbe
      mark = :erlang.unique_integer([:monotonic])
      plugin = {Oban.Plugins.Cron, Keyword.put(cron_opts, :crontab, crontab)}

      :ok =
        start_oban(
          name: name,
          repo: CronspecTest.Repo,
          queues: [],
          peer: Oban.Peers.Isolated,
          plugins: [plugin]
        )

      pid = Oban.Registry.whereis(name, {:plugin, Oban.Plugins.Cron})
      send(pid, :evaluate)
      # the plugin handles messages in order: when it answers, the tick is done
      _ = :sys.get_state(pid)
      jobs = inserted_since(mark, name)
      stop(name)

      if length(jobs) != length(crontab),
        do: raise("the Cron plugin inserted #{length(jobs)} jobs for #{length(crontab)} entries")

      jobs
    end

    defp job(%Oban.Job{} = job) do
      %{rows: [row]} =
        CronspecTest.Repo.query!(
          "SELECT worker, args::text, queue, priority, max_attempts, state, tags, meta::text " <>
            "FROM oban_jobs WHERE id = $1",
          [job.id]
        )

      %{
        "worker" => job.worker,
        "args" => job.args,
        "queue" => job.queue,
        "priority" => job.priority,
        "max_attempts" => job.max_attempts,
        "tags" => job.tags,
        "meta" => job.meta,
        "row" =>
          Enum.zip(~w(worker args queue priority max_attempts state tags meta), row) |> Map.new()
      }
    end

    defp clean_up do
      for name <- [Oban, CronspecTest.CronProbe], do: stop(name)

      receive do
        {:EXIT, _, _} -> :ok
      after
        0 -> :ok
      end

      if Process.whereis(CronspecTest.Repo), do: CronspecTest.Repo.query!("DELETE FROM oban_jobs")
      :ets.delete_all_objects(@inserted)
      :ets.delete_all_objects(@performed)
    end
  end

  defmodule CronspecTest.Repo do
    use Ecto.Repo, otp_app: :cronspec_test, adapter: Ecto.Adapters.Postgres
  end

  defmodule CronspecTest.ObanMigration do
    use Ecto.Migration
    def up, do: Oban.Migration.up()
    def down, do: Oban.Migration.down(version: 1)
  end

  defmodule CronspecTest.NextRuns do
    @moduledoc """
    The runs Oban's Cron plugin makes of an expression: every minute it takes
    `DateTime.now(timezone)` and inserts the entries whose parsed expression is `now?/2` then
    (2.18 has no `next_at/2`). So a run is a UTC minute whose wall-clock time in the zone is
    `now?/2`: a local time skipped by a daylight-saving change never runs, a repeated one runs
    twice. The walk asks `now?/2` of each UTC minute, except where the same expression with its
    minutes (and hours) opened up to `*` is not `now?/2`: then no minute of that local day (hour)
    can match, and the walk goes on from the first minute of the next local day (hour) that can,
    found with calendar arithmetic alone, at the first instant that exists there in the zone
    (`DateTime.new/4` across gaps and repeats).
    """

    alias Oban.Cron.Expression

    def runs(expr, zone, after_at, count, horizon_days, brute? \\ false) do
      case Expression.parse(expr) do
        {:error, error} ->
          %{"error" => Exception.message(error)}

        {:ok, %{reboot?: true}} ->
          %{"runs" => []}

        {:ok, cron} ->
          first =
            after_at |> DateTime.truncate(:second) |> Map.put(:second, 0) |> DateTime.add(60)

          stop = DateTime.add(after_at, horizon_days * 86_400)

          coarse = [day: %{cron | minutes: :*, hours: :*}, hour: %{cron | minutes: :*}]
          coarse = if brute?, do: [], else: coarse

          %{"runs" => walk(first, stop, cron, coarse, zone, count, [])}
      end
    end

    defp walk(_at, _stop, _cron, _coarse, _zone, 0, acc), do: Enum.reverse(acc)

    defp walk(at, stop, cron, coarse, zone, left, acc) do
      local = DateTime.shift_zone!(at, zone)

      cond do
        DateTime.compare(at, stop) == :gt ->
          Enum.reverse(acc)

        unit = Enum.find(coarse, fn {_unit, c} -> not Expression.now?(c, local) end) ->
          walk(next(at, local, zone, unit, stop), stop, cron, coarse, zone, left, acc)

        Expression.now?(cron, local) ->
          walk(DateTime.add(at, 60), stop, cron, coarse, zone, left - 1, [iso(local) | acc])

        true ->
          walk(DateTime.add(at, 60), stop, cron, coarse, zone, left, acc)
      end
    end

    # the first existing local minute of the next local day (hour) that can match, in UTC
    defp next(at, local, zone, {unit, coarse}, stop) do
      date = DateTime.to_date(local)
      last = DateTime.to_date(stop) |> Date.add(2)

      {date, hour} =
        case unit do
          :day -> {next_day(Date.add(date, 1), coarse, last), 0}
          :hour -> next_hour(date, local.hour + 1, coarse)
        end

      there =
        case DateTime.new(date, Time.new!(hour, 0, 0), zone) do
          {:ok, dt} -> dt
          {:ambiguous, first, _second} -> first
          {:gap, _before, just_after} -> just_after
        end

      utc = DateTime.shift_zone!(there, "Etc/UTC")
      if DateTime.compare(utc, at) == :gt, do: utc, else: DateTime.add(at, 60)
    end

    defp next_day(date, coarse, last) do
      if Date.compare(date, last) == :gt or Expression.now?(coarse, naive(date, 0)),
        do: date,
        else: next_day(Date.add(date, 1), coarse, last)
    end

    defp next_hour(date, 24, _coarse), do: {Date.add(date, 1), 0}

    defp next_hour(date, hour, coarse) do
      if Expression.now?(coarse, naive(date, hour)),
        do: {date, hour},
        else: next_hour(date, hour + 1, coarse)
    end

    defp naive(date, hour), do: NaiveDateTime.new!(date, Time.new!(hour, 0, 0))

    # as Python's datetime.isoformat() writes it: 2026-01-01T03:00:00+00:00
    defp iso(local) do
      case DateTime.to_iso8601(local) do
        <<stamp::binary-size(19), "Z">> -> stamp <> "+00:00"
        other -> other
      end
    end
  end
end

defmodule CronspecTest.Server do
  alias CronspecTest.Term

  def main do
    oban? = Code.ensure_loaded?(Oban) and Code.ensure_loaded?(Ecto.Adapters.Postgres)
    # (apply/3: the harness exists only where the stack is on the code path)
    if oban?, do: apply(CronspecTest.ObanHarness, :init, [])
    loop(oban?)
  end

  def loop(oban?) do
    case IO.read(:stdio, :line) do
      line when is_binary(line) ->
        IO.write(Term.encode(answer(String.trim_trailing(line, "\n"), oban?)) <> "\n")
        loop(oban?)

      _eof_or_error ->
        :ok
    end
  end

  defp answer(line, oban?) do
    {op, arg} =
      case String.split(line, " ", parts: 2) do
        [op, arg] -> {op, arg}
        [op] -> {op, ""}
      end

    cond do
      op in ~w(info parse eval) -> handle(op, arg)
      not oban? -> raise "#{op}: Oban is not on the code path (ERL_LIBS)"
      # a module of its own: it only compiles where Oban is on the code path
      true -> apply(CronspecTest.ObanHarness, :handle, [op, apply(Jason, :decode!, [arg])])
    end
  rescue
    error -> %{"ok" => false, "error" => Exception.format(:error, error, __STACKTRACE__)}
  end

  # -- Elixir alone -----------------------------------------------------------------------------

  defp handle("info", _) do
    tzdb = if Code.ensure_loaded?(Tz), do: "tz " <> apply(Tz, :iana_version, []), else: nil

    %{
      "ok" => true,
      "elixir" => System.version(),
      "otp" => System.otp_release(),
      "oban" => vsn(:oban),
      "ecto" => vsn(:ecto),
      "postgrex" => vsn(:postgrex),
      "tzdb" => tzdb
    }
  end

  defp handle("parse", path) do
    Code.string_to_quoted!(File.read!(path), file: path)
    %{"ok" => true}
  end

  defp handle("eval", path) do
    Code.string_to_quoted!(File.read!(path), file: path)

    {{term, _binding}, warnings} =
      ExUnit.CaptureIO.with_io(:stderr, fn -> Code.eval_file(path) end)

    %{"ok" => true, "term" => term, "warnings" => warnings}
  end

  defp vsn(app) do
    case Application.spec(app, :vsn) do
      nil -> nil
      vsn -> to_string(vsn)
    end
  end
end

CronspecTest.Server.main()
