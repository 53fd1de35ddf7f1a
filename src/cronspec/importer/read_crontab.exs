# cronspec import --oban: the `Oban.Plugins.Cron` crontabs of an Elixir config file, read with
# Elixir's own parser (Code.string_to_quoted/2; nothing is evaluated) and printed as one line
# of JSON on stdout for cronspec (src/cronspec/importer/elixir.py).
#
#   elixir read_crontab.exs CONFIG_FILE
#
# Every `{Oban.Plugins.Cron, opts}` in the file is found, wherever it is (a `config` call, an
# `if`, a list of plugins). Of its options, `crontab` and `timezone` are read as literals: an
# entry that is not one (a function call, a module attribute, a variable, interpolation) is
# reported with its line and what it is, never evaluated. Output:
#
#   {"ok": true, "plugins": [{"line": L, "column": C, "timezone": null | VALUE,
#                             "crontab": null | VALUE}]}
#   VALUE: {"line": L, "column": C, "value": TERM} or {"line": L, "column": C, "not_literal": WHAT}
#   a literal crontab is {"line": L, "column": C, "entries": [VALUE, ...]}
#   {"ok": false, "line": L, "column": C, "message": TEXT}     the file does not parse
#
# TERM is tagged JSON: strings, integers, floats, true, false and null are JSON's own; atoms
# {"atom": NAME} (modules as "Elixir.A.B"), tuples {"tuple": [...]}, maps {"map": [[K, V], ...]}
# in source order. Needs nothing but Elixir.

defmodule CronspecImport.Json do
  @moduledoc false

  def encode(nil), do: "null"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(int) when is_integer(int), do: Integer.to_string(int)
  def encode(float) when is_float(float), do: Float.to_string(float)
  def encode(text) when is_binary(text), do: string(text)
  def encode(list) when is_list(list), do: "[" <> Enum.map_join(list, ",", &encode/1) <> "]"

  def encode(%{} = map) do
    "{" <> Enum.map_join(map, ",", fn {k, v} -> string(to_string(k)) <> ":" <> encode(v) end) <> "}"
  end

  # ASCII only: everything else as \u escapes (surrogate pairs above U+FFFF)
  def string(text) do
    body =
      for <<char::utf8 <- text>>, into: "" do
        case char do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c >= 0x20 and c < 0x7F -> <<c>>
          c when c > 0xFFFF -> escape(0xD800 + div(c - 0x10000, 0x400)) <> escape(0xDC00 + rem(c - 0x10000, 0x400))
          c -> escape(c)
        end
      end

    "\"" <> body <> "\""
  end

  defp escape(code), do: "\\u" <> String.pad_leading(Integer.to_string(code, 16), 4, "0")
end

defmodule CronspecImport.Crontab do
  @moduledoc false

  @cron [:Oban, :Plugins, :Cron]

  def read(path) do
    text = File.read!(path)

    opts = [
      file: path,
      columns: true,
      token_metadata: true,
      # every literal comes wrapped with its position: entries get a line even when they are
      # 2-tuples, which the AST otherwise writes as themselves
      literal_encoder: fn literal, meta -> {:ok, {:__block__, meta, [literal]}} end
    ]

    case String.valid?(text) && Code.string_to_quoted(text, opts) do
      false ->
        %{ok: false, line: 1, column: 1, message: "the file is not UTF-8"}

      {:ok, ast} ->
        {_, found} = Macro.prewalk(ast, [], &collect/2)
        %{ok: true, plugins: Enum.reverse(found)}

      {:error, {meta, message, token}} ->
        %{ok: false, line: meta[:line] || 1, column: meta[:column] || 1,
          message: message_text(message) <> to_string(token)}
    end
  end

  defp message_text({a, b}), do: to_string(a) <> to_string(b)
  defp message_text(text), do: to_string(text)

  # {Oban.Plugins.Cron, opts}, as the literal encoder writes a 2-tuple
  defp collect({:__block__, meta, [{{:__aliases__, _, @cron}, opts}]} = node, found) do
    {node, [plugin(meta, opts) | found]}
  end

  defp collect(node, found), do: {node, found}

  defp plugin(meta, opts) do
    base = %{line: meta[:line], column: meta[:column], timezone: nil, crontab: nil}

    case keyword(opts) do
      {:ok, pairs} ->
        Enum.reduce(pairs, base, fn
          {:crontab, value}, acc -> %{acc | crontab: crontab(value, meta)}
          {:timezone, value}, acc -> %{acc | timezone: literal_at(value, meta)}
          _, acc -> acc
        end)

      :error ->
        %{base | crontab: not_literal(opts, meta)}
    end
  end

  # A keyword list written with or without brackets: [{key, value_ast}]
  defp keyword({:__block__, _, [list]}) when is_list(list), do: keyword(list)

  defp keyword(list) when is_list(list) do
    pairs =
      for {{:__block__, _, [key]}, value} when is_atom(key) <- list, do: {key, value}

    if length(pairs) == length(list), do: {:ok, pairs}, else: :error
  end

  defp keyword(_), do: :error

  defp crontab({:__block__, meta, [list]}, _) when is_list(list) do
    %{line: meta[:line], column: meta[:column], entries: Enum.map(list, &literal_at(&1, meta))}
  end

  defp crontab(other, meta), do: not_literal(other, meta)

  defp literal_at(ast, outer) do
    {line, column} = position(ast, outer)

    case literal(ast) do
      {:ok, value} -> %{line: line, column: column, value: value}
      {:error, what} -> %{line: line, column: column, not_literal: what}
    end
  end

  defp not_literal(ast, outer) do
    {line, column} = position(ast, outer)
    {:error, what} = literal(ast)
    %{line: line, column: column, not_literal: what}
  end

  defp position({_, meta, _}, outer) when is_list(meta),
    do: {meta[:line] || outer[:line], meta[:column] || outer[:column]}

  defp position(_, outer), do: {outer[:line], outer[:column]}

  # -- literals --------------------------------------------------------------------------------

  def literal({:__block__, _, [value]}), do: literal(value)
  def literal(value) when value in [nil, true, false], do: {:ok, value}
  def literal(atom) when is_atom(atom), do: {:ok, %{atom: Atom.to_string(atom)}}
  def literal(number) when is_number(number), do: {:ok, number}

  def literal(text) when is_binary(text) do
    if String.valid?(text), do: {:ok, text}, else: {:error, "a binary that is not UTF-8 text"}
  end

  def literal(list) when is_list(list) do
    with {:ok, items} <- all(list), do: {:ok, items}
  end

  def literal({a, b}), do: with({:ok, items} <- all([a, b]), do: {:ok, %{tuple: items}})
  def literal({:{}, _, items}), do: with({:ok, items} <- all(items), do: {:ok, %{tuple: items}})

  def literal({:%{}, _, pairs}) do
    Enum.reduce_while(pairs, {:ok, []}, fn
      {k, v}, {:ok, acc} ->
        case all([k, v]) do
          {:ok, pair} -> {:cont, {:ok, [pair | acc]}}
          error -> {:halt, error}
        end

      other, _ ->
        {:halt, literal(other)}
    end)
    |> case do
      {:ok, acc} -> {:ok, %{map: Enum.reverse(acc)}}
      error -> error
    end
  end

  def literal({:__aliases__, _, parts}) do
    if Enum.all?(parts, &is_atom/1),
      do: {:ok, %{atom: Atom.to_string(Module.concat(parts))}},
      else: {:error, "an alias built at compile time"}
  end

  def literal({sign, _, [number]}) when sign in [:-, :+] do
    case literal(number) do
      {:ok, n} when is_number(n) -> {:ok, if(sign == :-, do: -n, else: n)}
      _ -> {:error, "an expression (`#{sign}`)"}
    end
  end

  def literal({:@, _, [{name, _, _}]}) when is_atom(name),
    do: {:error, "a module attribute `@#{name}`"}

  def literal({:<<>>, _, _}), do: {:error, "a string built at run time (interpolation)"}
  def literal({:%, _, _}), do: {:error, "a struct"}

  def literal({name, _, context}) when is_atom(name) and is_atom(context),
    do: {:error, "a variable `#{name}`"}

  def literal({{:., _, [module, fun]}, _, args}) when is_atom(fun) and is_list(args) do
    owner =
      case module do
        {:__aliases__, _, parts} -> Enum.map_join(parts, ".", &to_string/1)
        {:__block__, _, [atom]} when is_atom(atom) -> inspect(atom)
        atom when is_atom(atom) -> inspect(atom)
        _ -> "..."
      end

    {:error, "a function call `#{owner}.#{fun}/#{length(args)}`"}
  end

  def literal({name, _, args}) when is_atom(name) and is_list(args) do
    case Atom.to_string(name) do
      "sigil_" <> letter -> {:error, "a sigil `~#{letter}`"}
      text -> {:error, "a function call `#{text}/#{length(args)}`"}
    end
  end

  def literal(_), do: {:error, "an expression"}

  defp all(items) do
    Enum.reduce_while(items, {:ok, []}, fn item, {:ok, acc} ->
      case literal(item) do
        {:ok, value} -> {:cont, {:ok, [value | acc]}}
        error -> {:halt, error}
      end
    end)
    |> case do
      {:ok, acc} -> {:ok, Enum.reverse(acc)}
      error -> error
    end
  end
end

[path] = System.argv()
IO.puts(CronspecImport.Json.encode(CronspecImport.Crontab.read(path)))
