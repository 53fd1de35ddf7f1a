# Test support for cronspec's generated/oban_crontab.exs, shared by the scripts beside it:
#
# - `CronspecTest.Term.encode/1`: any term as tagged JSON text (ASCII only), so that Python can
#   compare it exactly: atoms are {"atom": name}, tuples {"tuple": [...]}, maps
#   {"map": [[key, value], ...]}; strings, numbers, lists, true, false and nil are JSON's own.
# - Stubs of the Oban API that the README's snippets call (`Oban.insert!/1`, `Oban.Job.new/2`
#   with Oban's own handling of args and opts, `Oban.Plugins.Cron`'s way to build a job from a
#   crontab entry) and `CronspecTest.Stubs.define_workers/1`, which defines a stub worker module
#   (`new/2`, `perform/1`, `__opts__/0`) for every module alias the file names.

defmodule CronspecTest.Term do
  def encode(nil), do: "null"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(atom) when is_atom(atom), do: ~s({"atom":) <> string(Atom.to_string(atom)) <> "}"
  def encode(int) when is_integer(int), do: Integer.to_string(int)
  def encode(float) when is_float(float), do: Float.to_string(float)

  def encode(bin) when is_binary(bin) do
    if String.valid?(bin),
      do: string(bin),
      else: ~s({"bytes":) <> encode(:binary.bin_to_list(bin)) <> "}"
  end

  def encode(list) when is_list(list), do: "[" <> Enum.map_join(list, ",", &encode/1) <> "]"

  def encode(tuple) when is_tuple(tuple),
    do: ~s({"tuple":) <> encode(Tuple.to_list(tuple)) <> "}"

  def encode(map) when is_map(map) do
    pairs =
      map |> Enum.sort() |> Enum.map_join(",", fn {k, v} -> "[#{encode(k)},#{encode(v)}]" end)

    ~s({"map":[) <> pairs <> "]}"
  end

  def encode(other), do: ~s({"other":) <> string(inspect(other)) <> "}"

  def string(text) do
    body =
      for <<char::utf8 <- text>>, into: "" do
        case char do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c >= 0x20 and c < 0x7F -> <<c>>
          c when c > 0xFFFF -> surrogates(c - 0x10000)
          c -> escape(c)
        end
      end

    "\"" <> body <> "\""
  end

  defp surrogates(n), do: escape(0xD800 + div(n, 0x400)) <> escape(0xDC00 + rem(n, 0x400))

  defp escape(code), do: "\\u" <> String.pad_leading(Integer.to_string(code, 16), 4, "0")
end

defmodule Oban.Job do
  # Oban.Job.new/2 as Oban 2.x builds its params: `args` always comes from the first argument
  # (an `args:` in opts is overwritten), queue and worker become strings.
  @permitted ~w(args max_attempts meta priority queue scheduled_at tags worker replace
                replace_args schedule_in unique)a

  def new(args, opts) when is_map(args) and is_list(opts) do
    unless Keyword.keyword?(opts), do: raise(ArgumentError, "opts must be a keyword list")

    params =
      opts
      |> Keyword.put(:args, args)
      |> Map.new()
      |> coerce(:queue, &to_string/1)
      |> coerce(:worker, fn w -> w |> to_string() |> String.trim_leading("Elixir.") end)

    errors =
      Enum.flat_map(params, fn
        {key, _} when key not in @permitted ->
          ["unknown option #{inspect(key)}"]

        {:queue, q} when not is_binary(q) or byte_size(q) < 1 or byte_size(q) > 128 ->
          ["queue #{inspect(q)}"]

        {:priority, p} when not is_integer(p) or p < 0 or p > 9 ->
          ["priority #{inspect(p)}"]

        {:max_attempts, m} when not is_integer(m) or m < 1 ->
          ["max_attempts #{inspect(m)}"]

        _ ->
          []
      end)

    %{params: params, valid?: errors == [], errors: errors}
  end

  defp coerce(params, key, fun) do
    case Map.get(params, key) do
      value when (is_atom(value) and not is_nil(value)) or is_binary(value) ->
        Map.put(params, key, fun.(value))

      _ ->
        params
    end
  end
end

defmodule Oban do
  # Records what is inserted, in order.
  def reset, do: Process.put(:cronspec_inserted, [])
  def inserted, do: Enum.reverse(Process.get(:cronspec_inserted, []))

  def insert!(%{valid?: true, params: params} = changeset) do
    Process.put(:cronspec_inserted, [params | Process.get(:cronspec_inserted, [])])
    changeset
  end

  def insert!(%{errors: errors}), do: raise(ArgumentError, "invalid job: #{inspect(errors)}")
end

defmodule Oban.Plugins.Cron do
  # What the plugin does with its options: validate each entry, and (at each matching minute)
  # build the job as `Keyword.pop(opts, :args, %{})` then `worker.new(args, opts)`.
  def jobs(opts) do
    for entry <- Keyword.fetch!(opts, :crontab) do
      {expr, worker, job_opts} =
        case entry do
          {expr, worker} -> {expr, worker, []}
          {expr, worker, job_opts} -> {expr, worker, job_opts}
          other -> raise ArgumentError, "not a crontab entry: #{inspect(other)}"
        end

      unless is_binary(expr), do: raise(ArgumentError, "expression #{inspect(expr)}")
      unless Keyword.keyword?(job_opts), do: raise(ArgumentError, "opts #{inspect(job_opts)}")

      unless Code.ensure_loaded?(worker) and function_exported?(worker, :perform, 1),
        do: raise(ArgumentError, "#{inspect(worker)} is not a worker")

      {args, job_opts} = Keyword.pop(job_opts, :args, %{})
      {expr, worker.new(args, job_opts) |> Oban.insert!() |> Map.fetch!(:params)}
    end
  end
end

defmodule CronspecTest.Stubs do
  def worker_names(path) do
    {_, names} =
      path
      |> File.read!()
      |> Code.string_to_quoted!(file: path)
      |> Macro.prewalk([], fn
        {:__aliases__, _, parts} = node, acc -> {node, [Module.concat(parts) | acc]}
        node, acc -> {node, acc}
      end)

    names |> Enum.uniq() |> Enum.sort()
  end

  def define_workers(path) do
    for name <- worker_names(path) do
      body =
        quote do
          def __opts__, do: []
          def perform(_job), do: :ok

          def new(args, opts \\ []) when is_map(args) and is_list(opts),
            do: Oban.Job.new(args, Keyword.put(opts, :worker, __MODULE__))
        end

      Module.create(name, body, Macro.Env.location(__ENV__))
      name
    end
  end
end

Code.compiler_options(ignore_module_conflict: true)
