namespace Retort.Training.Model;

/// <summary>
/// A batch of token rows, all <see cref="Length"/> long, with per token: the next-token target
/// (<see cref="Losses.TokenLosses.IgnoreIndex"/> where no loss is taken), the RoPE position and the
/// document it belongs to. A token attends to earlier tokens of its own document only, so several
/// documents packed into one row do not see each other, and positions restart at each document.
/// Documents must be contiguous within a row; document −1 marks padding (it attends to itself
/// only and nothing attends to it).
/// </summary>
public sealed class TrainingBatch
{
    public TrainingBatch(int rows, int length, int[] tokens, int[] targets, int[] positions, int[] documents)
    {
        if (rows <= 0 || length <= 0) throw new ArgumentException($"batch shape must be positive, found {rows}×{length}");
        int n = rows * length;
        if (tokens.Length != n || targets.Length != n || positions.Length != n || documents.Length != n)
            throw new ArgumentException($"batch arrays must each hold {rows}×{length} = {n} entries");
        Rows = rows;
        Length = length;
        Tokens = tokens;
        Targets = targets;
        Positions = positions;
        Documents = documents;
        DocumentStart = new int[n];
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < length; t++)
            {
                int i = r * length + t;
                if (positions[i] < 0) throw new ArgumentException($"batch position at row {r}, column {t} is negative");
                bool continues = t > 0 && documents[i] >= 0 && documents[i] == documents[i - 1];
                DocumentStart[i] = continues ? DocumentStart[i - 1] : t;
            }
    }

    public int Rows { get; }

    public int Length { get; }

    public int TokenCount => Rows * Length;

    public int[] Tokens { get; }

    public int[] Targets { get; }

    public int[] Positions { get; }

    public int[] Documents { get; }

    /// <summary>
    /// For each token, the index of its example in the data set the batch came from (−1 for
    /// padding); null when the batch was not built from a data set. Precomputed teachers look up by it.
    /// </summary>
    public int[]? Examples { get; init; }

    /// <summary>For each token, the column where its document starts (the first key it may attend to).</summary>
    internal int[] DocumentStart { get; }

    /// <summary>Tokens that carry a loss.</summary>
    public int TargetCount => Targets.Count(t => t != Losses.TokenLosses.IgnoreIndex);

    /// <summary>
    /// The causal-LM batch transformers builds from input_ids and labels ([rows, length] each): the
    /// target of a token is the next label (the last token has none), positions 0..length-1, and an
    /// optional attention mask (1 = real token, 0 = padding).
    /// </summary>
    public static TrainingBatch FromLabels(int rows, int length, int[] inputIds, int[] labels, int[]? attentionMask = null)
    {
        int n = rows * length;
        if (labels.Length != n) throw new ArgumentException($"labels must hold {n} entries");
        var targets = new int[n];
        var positions = new int[n];
        var documents = new int[n];
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < length; t++)
            {
                int i = r * length + t;
                targets[i] = t + 1 < length ? labels[i + 1] : Losses.TokenLosses.IgnoreIndex;
                positions[i] = t;
                documents[i] = attentionMask == null || attentionMask[i] != 0 ? 0 : -1;
            }
        return new TrainingBatch(rows, length, inputIds, targets, positions, documents);
    }
}
