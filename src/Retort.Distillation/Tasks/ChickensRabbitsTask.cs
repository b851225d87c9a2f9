using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>鸡兔同笼: the classic "assume they are all chickens" solution, with a check.</summary>
internal static class ChickensRabbitsTask
{
    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty)
    {
        int max = difficulty switch { 1 => 20, 2 => 60, _ => 200 };
        int chickens = rng.Int(1, max), rabbits = rng.Int(1, max);
        int heads = chickens + rabbits, legs = 2 * chickens + 4 * rabbits;
        bool askRabbits = rng.Int(0, 1) == 1;
        int answer = askRabbits ? rabbits : chickens;
        int allChickenLegs = 2 * heads, extra = legs - allChickenLegs;

        if (lang == TaskLanguage.Zh)
        {
            string prompt = $"笼子里有若干只鸡和兔子，从上面数有{S(heads)}个头，从下面数有{S(legs)}只脚。问笼中有多少只{(askRabbits ? "兔子" : "鸡")}？";
            string reasoning =
                $"每只鸡和每只兔子都只有一个头，所以一共有{S(heads)}只动物。\n" +
                $"假设{S(heads)}只全是鸡，那么脚的总数是 2 × {S(heads)} = {S(allChickenLegs)} 只。\n" +
                $"实际有{S(legs)}只脚，比假设多了 {S(legs)} - {S(allChickenLegs)} = {S(extra)} 只。\n" +
                $"每把一只鸡换成一只兔子，脚就多 4 - 2 = 2 只，所以兔子有 {S(extra)} ÷ 2 = {S(rabbits)} 只。\n" +
                $"鸡有 {S(heads)} - {S(rabbits)} = {S(chickens)} 只。\n" +
                $"验算：2 × {S(chickens)} + 4 × {S(rabbits)} = {S(2 * chickens)} + {S(4 * rabbits)} = {S(legs)}，脚数正确。\n" +
                $"所以笼中有{S(answer)}只{(askRabbits ? "兔子" : "鸡")}。";
            return new TaskContent(prompt, reasoning, S(answer));
        }
        else
        {
            string prompt = $"A cage holds some chickens and some rabbits. Together they have {S(heads)} heads and {S(legs)} legs. How many {(askRabbits ? "rabbits" : "chickens")} are in the cage?";
            string reasoning =
                $"Every chicken and every rabbit has one head, so there are {S(heads)} animals.\n" +
                $"If all {S(heads)} animals were chickens, they would have 2 × {S(heads)} = {S(allChickenLegs)} legs.\n" +
                $"There are {S(legs)} legs, which is {S(legs)} - {S(allChickenLegs)} = {S(extra)} more.\n" +
                $"Turning one chicken into a rabbit adds 4 - 2 = 2 legs, so there are {S(extra)} ÷ 2 = {S(rabbits)} rabbits.\n" +
                $"The chickens number {S(heads)} - {S(rabbits)} = {S(chickens)}.\n" +
                $"Check: 2 × {S(chickens)} + 4 × {S(rabbits)} = {S(2 * chickens)} + {S(4 * rabbits)} = {S(legs)} legs, as given.\n" +
                $"So there are {S(answer)} {(askRabbits ? "rabbits" : "chickens")}.";
            return new TaskContent(prompt, reasoning, S(answer));
        }
    }
}
