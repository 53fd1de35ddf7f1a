# `CronspecTest.Term.encode/1`: any term as tagged JSON text (ASCII only), so that Python can
# compare it exactly: atoms are {"atom": name}, tuples {"tuple": [...]}, maps
# {"map": [[key, value], ...]}, structs the same with their `__struct__` key, binaries that are
# not UTF-8 {"bytes": [...]}, anything else {"other": inspect(term)}; strings, numbers, lists,
# true, false and nil are JSON's own. Needs nothing but Elixir (no Jason).

defmodule CronspecTest.Term do
  @doc "The values of a parsed Oban.Cron.Expression's five fields, each sorted."
  def cron_sets(cron) do
    for set <- [cron.minutes, cron.hours, cron.days, cron.months, cron.weekdays],
        do: Enum.sort(set)
  end

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
      map
      |> Map.to_list()
      |> Enum.sort()
      |> Enum.map_join(",", fn {k, v} -> "[#{encode(k)},#{encode(v)}]" end)

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
